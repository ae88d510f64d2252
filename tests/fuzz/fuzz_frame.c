/*
 * fuzz_frame.c - libFuzzer harness for the frame decoder (shm/frame.c).
 *
 * The input is one request message as the daemon reassembles it from a
 * client's ring.  The daemon only decodes a message whose header length
 * matches its size, so the harness patches the length in (half of the runs)
 * and feeds it raw (the other half: the decoder must refuse a mismatch).
 * The same bytes are also parsed as a response frame and its values, as a
 * client does.  Pass: no crash, no sanitizer report, no leak, no hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../shm/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private, 8-byte aligned copy, as the daemon's round arena holds it. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    if (size >= PCS_FRAME_HDR && (data[size - 1] & 1)) {
        uint32_t len = (uint32_t)size;
        memcpy(p, &len, 4);
    }
    pcs_req rq;
    if (pcs_req_decode(p, size, &rq) == 0) {
        /* Walk what was decoded, as the executor would. */
        volatile size_t sum = 0;
        for (uint32_t i = 0; i < rq.argc; i++)
            if (rq.argv[i].kind == PC_BYTES && rq.argv[i].s.len)
                sum += ((const uint8_t *)rq.argv[i].s.ptr)[rq.argv[i].s.len - 1];
        for (uint32_t i = 0; i < rq.nsub; i++)
            sum += rq.subs[i].argc;
        pcs_req_free(&rq);
    }
    pcs_resp resp;
    size_t used;
    if (pcs_resp_parse(p, size, &resp, &used) == 0) {
        const uint8_t *v = resp.vals;
        for (uint32_t i = 0; i < resp.nvals && v < resp.end; i++) {
            pc_val val;
            if (pcs_val_decode(&v, resp.end, &val))
                break;
        }
    }
    free(p);
    return 0;
}
