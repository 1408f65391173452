#!/usr/bin/env bash
# Benchmark: notices per second through the whole send path (outbox claim
# made durable, template, MIME, SMTP to an in-process go-smtp server on
# loopback, outbox result), with the peak heap and the CPU spent per
# message. The heap must stay flat as the campaign grows.
#
#   bench/notify.sh [N...]        (default: 20000 200000; 1000000 for the full check)
#
# MAMORI_NOTIFY_BENCH_WORKERS sets concurrent transactions (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
sizes=("$@")
((${#sizes[@]})) || sizes=(20000 200000)
for n in "${sizes[@]}"; do
	go test -run '^$' -bench '^BenchmarkSend$' -benchtime "${n}x" -timeout 0 ./internal/notify | grep '^BenchmarkSend'
done
