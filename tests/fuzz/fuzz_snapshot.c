/*
 * fuzz_snapshot.c - libFuzzer harness for the snapshot loader
 * (persist/snapshot.c): the input is written to a temporary file, checked
 * with pcp_check, and when the check passes loaded with pcp_restore_file into
 * an embedded store that is emptied again after every successful load.
 * Seeds are real snapshots (tests/fuzz/corpus/snapshot/).  Pass: no crash, no
 * sanitizer report, no leak, no hang; a refused file always says why, and a
 * refused load leaves the store empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../persist/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pcs_store *st;
static char dir[64], file[96];

static void cleanup(void)
{
    if (st)
        pcs_store_release(st);
    st = NULL;
    char p[128];
    static const char *const names[] = {"data-00.mdb", "data-00.mdb-lock", "pycached.pid"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    unlink(file);
    rmdir(dir);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/dev/shm/pcfuzz-snap-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(file, sizeof file, "%s.db", dir);
    pcs_params p = {.map_size = 64u << 20, .create = true, .nosync = true};
    if (pcs_store_open(dir, PCS_MODE_EMBEDDED, &p, &st))
        abort();
    atexit(cleanup);
}

/* Keys in the store (0 when empty). */
static size_t count_keys(void)
{
    size_t n = 0;
    for (unsigned s = 0; s < st->nshards; s++) {
        MDB_txn *txn;
        MDB_stat ms;
        if (mdb_txn_begin(st->shards[s].env, NULL, MDB_RDONLY, &txn))
            abort();
        if (mdb_stat(txn, st->shards[s].keys, &ms) == 0)
            n += ms.ms_entries;
        mdb_txn_abort(txn);
    }
    return n;
}

static void empty_store(void)
{
    for (unsigned s = 0; s < st->nshards; s++) {
        pcs_shard *sh = &st->shards[s];
        MDB_txn *txn;
        if (mdb_txn_begin(sh->env, NULL, 0, &txn))
            abort();
        if (mdb_drop(txn, sh->keys, 0) || mdb_drop(txn, sh->members, 0) ||
            mdb_drop(txn, sh->expiry, 0) || mdb_drop(txn, sh->sweep, 0) || mdb_txn_commit(txn))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        setup();
    FILE *f = fopen(file, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    char why[512] = "";
    int rc = pcp_check(file, why, sizeof why);
    if (rc && !why[0])
        abort(); /* a refusal must say why */
    if (rc == 0) {
        pcp_result res;
        rc = pcp_restore_file(st, file, &res);
        if (rc) {
            if (!res.why[0] || count_keys())
                abort(); /* refused: said why, and loaded nothing */
        } else {
            empty_store();
        }
    }
    return 0;
}
