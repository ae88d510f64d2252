/*
 * num.c - numbers held in Strings (num.h).
 */
#include "num.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

bool pcs_text_int(const void *p, size_t n, int64_t *out)
{
    const unsigned char *s = p;
    if (n == 0 || n > 20)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    bool neg = s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i >= n || s[i] < '1' || s[i] > '9')
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = s[i] - '0';
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* The C locale, made once, for strtod_l. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Does s[0..n) follow the decimal grammar of num.h? */
static bool decimal_form(const unsigned char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && s[i] == '-')
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (ed == 0)
            return false;
    }
    return i == n;
}

bool pcs_text_double(const void *p, size_t n, double *out)
{
    char buf[PCS_NUM_TEXT_MAX + 1];
    if (n == 0 || n > PCS_NUM_TEXT_MAX || !decimal_form(p, n))
        return false;
    pthread_once(&c_locale_once, c_locale_make);
    if (c_locale == (locale_t)0)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    int saved = errno;
    errno = 0;
    double v = strtod_l(buf, &end, c_locale);
    bool ok = *end == '\0' && errno != ERANGE && isfinite(v);
    errno = saved;
    if (ok)
        *out = v;
    return ok;
}
