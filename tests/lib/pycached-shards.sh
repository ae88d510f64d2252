#!/bin/sh
# tests/lib/pycached-shards.sh - pycached with --shards $PCTEST_SHARDS (and
# --writers $PCTEST_WRITERS when set) before the test's own arguments, so
# that a test's own --shards wins, as tests/lib/daemon.c does for the C
# tests.  tests/lib/pctest.sh puts it in $PYCACHED when PCTEST_SHARDS is set
# (make check-one-shard).
exec "$PCTEST_PYCACHED" --shards "$PCTEST_SHARDS" ${PCTEST_WRITERS:+--writers "$PCTEST_WRITERS"} "$@"
