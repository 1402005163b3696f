#include "cli/app.hpp"

int main(int argc, char** argv) { return spfctl::cli::run(argc, argv); }
