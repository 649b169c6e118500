// Implementations of the functions declared in include/MPIShim.h.
#include "MPIShim.h"

#include <stdio.h>
#include <stdlib.h>
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

MPI_Op dpo_mpi_sum(void) { return MPI_SUM; }
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
