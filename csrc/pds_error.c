/* pds_error.c - status codes and messages. */
#include "pds_base.h"

#include <stdio.h>

const char *pds_status_name(pds_status code) {
    switch (code) {
    case PDS_OK: return "ok";
    case PDS_ERR_INVALID_ARGUMENT: return "invalid argument";
    case PDS_ERR_NONFINITE: return "non-finite coordinate";
    case PDS_ERR_OUT_OF_MEMORY: return "out of memory";
    case PDS_ERR_TOO_DENSE: return "too dense";
    case PDS_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

pds_status pdsi_fail(pds_error *err, pds_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}
