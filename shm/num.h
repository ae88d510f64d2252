/*
 * num.h - numbers held in Strings: the canonical text of an integer and the
 * decimal text of a double, as the counters (incrby, incrbyfloat, hincrby,
 * hincrbyfloat) read them from a String.  Bytes that are not in one of these
 * forms are not a number, whatever strtoll(3) or strtod(3) would make of them.
 */
#ifndef PCS_NUM_H
#define PCS_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest text read as a double (longer text is not a number). */
#define PCS_NUM_TEXT_MAX 400

/*
 * An integer in canonical form: "0", or an optional '-' and a digit 1-9 and
 * more digits, within int64 (Redis's string2ll: no blanks, no '+', no
 * leading zeros, no "-0").  True with *out set, else false.
 */
bool pcs_text_int(const void *p, size_t n, int64_t *out);

/*
 * A finite decimal number: an optional '-', digits with an optional '.' and
 * more digits (at least one digit in all), then an optional exponent (e or
 * E, an optional sign, digits); at most PCS_NUM_TEXT_MAX bytes; no blanks,
 * no '+' in front, no hexadecimal, inf or nan; not so close to 0 that it
 * reads as 0 or loses digits (strtod's ERANGE).  Read in the C locale
 * whatever the process's locale.  True with *out set, else false.
 */
bool pcs_text_double(const void *p, size_t n, double *out);

#endif
