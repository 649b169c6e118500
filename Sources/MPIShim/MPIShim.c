// Implementations of the functions declared in include/MPIShim.h.
#include "MPIShim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void dpo_keep_freed_memory_mapped(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest threshold: a 25 MiB bucket and headers
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
#endif
}

MPI_Comm dpo_mpi_comm_world(void) { return MPI_COMM_WORLD; }

MPI_Datatype dpo_mpi_float(void) { return MPI_FLOAT; }
MPI_Datatype dpo_mpi_double(void) { return MPI_DOUBLE; }
MPI_Datatype dpo_mpi_int64(void) { return MPI_INT64_T; }
MPI_Datatype dpo_mpi_byte(void) { return MPI_BYTE; }

MPI_Datatype dpo_mpi_uint16(void) { return MPI_UINT16_T; }

MPI_Op dpo_mpi_sum(void) { return MPI_SUM; }

static inline uint16_t bf16_from_float(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((bits >> 16) | 0x0040u);  // NaN: keep sign and payload top, force quiet
    }
    bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest, ties to even
    return (uint16_t)(bits >> 16);
}

static inline float float_from_bf16(uint16_t value) {
    uint32_t bits = (uint32_t)value << 16;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

void dpo_bf16_round(const float *source, uint16_t *destination, long count) {
    for (long i = 0; i < count; i++) destination[i] = bf16_from_float(source[i]);
}

void dpo_bf16_widen(const uint16_t *source, float *destination, long count) {
    for (long i = 0; i < count; i++) destination[i] = float_from_bf16(source[i]);
}

static void bf16_sum(void *in, void *inout, int *length, MPI_Datatype *type) {
    (void)type;
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < *length; i++) b[i] = bf16_from_float(float_from_bf16(a[i]) + float_from_bf16(b[i]));
}

MPI_Op dpo_mpi_bf16_sum(void) {
    static MPI_Op op = MPI_OP_NULL;
    if (op == MPI_OP_NULL) MPI_Op_create(bf16_sum, 1, &op);
    return op;
}
MPI_Op dpo_mpi_max(void) { return MPI_MAX; }

void *dpo_mpi_in_place(void) { return MPI_IN_PLACE; }

MPI_Status *dpo_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
MPI_Status *dpo_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

int dpo_mpi_init(void) {
    if (!dpo_mpi_is_initialized()) {
        int provided = MPI_THREAD_SINGLE;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
    }
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

int dpo_mpi_finalize(void) { return MPI_Finalize(); }

int dpo_mpi_is_initialized(void) {
    int flag = 0;
    MPI_Initialized(&flag);
    return flag != 0;
}

int dpo_mpi_is_finalized(void) {
    int flag = 0;
    MPI_Finalized(&flag);
    return flag != 0;
}

void dpo_mpi_error_string(int code, char *buffer, int capacity) {
    if (capacity <= 0) {
        return;
    }
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) == MPI_SUCCESS) {
        snprintf(buffer, (size_t)capacity, "%.*s", length, text);
    } else {
        snprintf(buffer, (size_t)capacity, "unknown MPI error code %d", code);
    }
}

void dpo_mpi_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}
