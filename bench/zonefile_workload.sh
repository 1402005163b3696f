#!/usr/bin/env bash
# Generates a zone-file workload for timing `spfctl plan` end to end: N domains, each publishing an
# outdated SPF record, configured to send through Mailchimp (answered offline from
# examples/dns/senders.zone) and their own address.
#
#   bench/zonefile_workload.sh DIR N shared     one zone, example.com, holding clientI.example.com
#   bench/zonefile_workload.sh DIR N per-file   a zone file for each domain, clientI.example
#
# Then, for example:
#   farm-bench -- build/spfctl plan -q -c DIR/spfctl.toml --zone examples/dns/senders.zone
# (docs/PERFORMANCE.md, "Zone-file provider").
set -euo pipefail
dir=$1 count=$2 mode=$3
rm -rf "$dir"
mkdir -p "$dir/zones"
soa='@ IN SOA ns1 hostmaster 2026120101 7200 3600 1209600 3600'
config="$dir/spfctl.toml"
: >"$config"
if [ "$mode" = shared ]; then
  {
    printf '$ORIGIN example.com.\n$TTL 3600\n%s\n@ IN NS ns1\nns1 IN A 192.0.2.53\n' "$soa"
    for ((i = 0; i < count; i++)); do
      printf 'client%d IN TXT "v=spf1 ip4:198.51.%d.%d -all"\n' "$i" $((i / 250 % 250)) $((i % 250))
      printf 'client%d IN TXT "site-verification=%d"\n' "$i" "$i"
    done
  } >"$dir/zones/example.com.zone"
fi
for ((i = 0; i < count; i++)); do
  address="198.51.$((i / 250 % 250)).$((i % 250))"
  if [ "$mode" = shared ]; then
    name="client$i.example.com"
    printf '[[domain]]\nname = "%s"\nsenders = ["mailchimp"]\nip4 = ["%s"]\n\n' \
      "$name" "$address" >>"$config"
  else
    name="client$i.example"
    printf '[[domain]]\nname = "%s"\nsenders = ["mailchimp"]\nip4 = ["%s"]\n\n' "$name" "$address" >>"$config"
    printf '$ORIGIN %s.\n$TTL 3600\n%s\n@ IN NS ns1\nns1 IN A 192.0.2.53\n@ IN TXT "v=spf1 ip4:%s -all"\n' \
      "$name" "$soa" "$address" >"$dir/zones/$name.zone"
  fi
done
