// MPIShim: C functions over the parts of Open MPI that Swift cannot import.
//
// Open MPI defines its predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE,
// MPI_STATUSES_IGNORE, ...) as macros that expand to addresses of global objects; Swift imports
// none of them. Each is exposed here as a function returning the handle. The rest of MPI
// (MPI_Iallreduce, MPI_Testall, MPI_Iallgatherv, MPI_Ibcast, ...) is called from
// Swift directly through the CMPI module.
#ifndef DPO_MPI_SHIM_H
#define DPO_MPI_SHIM_H

#include <mpi.h>
#include <stdint.h>

/// MPI_COMM_WORLD.
MPI_Comm dpo_mpi_comm_world(void);

/// MPI_FLOAT (Swift `Float`).
MPI_Datatype dpo_mpi_float(void);
/// MPI_DOUBLE (Swift `Double`).
MPI_Datatype dpo_mpi_double(void);
/// MPI_INT64_T (Swift `Int64`).
MPI_Datatype dpo_mpi_int64(void);
/// MPI_BYTE (raw bytes, for broadcasts).
MPI_Datatype dpo_mpi_byte(void);

/// MPI_UINT16_T (bfloat16 values on the wire).
MPI_Datatype dpo_mpi_uint16(void);

/// MPI_SUM.
MPI_Op dpo_mpi_sum(void);
/// A commutative MPI_Op on MPI_UINT16_T buffers holding bfloat16 values: each element becomes
/// bf16(float(in) + float(inout)), the pair added in float32 and the sum rounded to nearest even
/// (as NCCL's bfloat16 sum, which llm.c's multi-GPU reductions use). Created on first use; MPI
/// must be initialized.
MPI_Op dpo_mpi_bf16_sum(void);

/// Rounds `count` floats to bfloat16 (the upper 16 bits of a float), to nearest even; a NaN stays
/// a (quiet) NaN, infinities stay infinite, finite values above bf16's largest become infinite.
void dpo_bf16_round(const float *source, uint16_t *destination, long count);
/// Widens `count` bfloat16 values to float, exactly.
void dpo_bf16_widen(const uint16_t *source, float *destination, long count);
/// MPI_MAX.
MPI_Op dpo_mpi_max(void);

/// MPI_IN_PLACE, the send buffer that tells a reduction to use the receive buffer as input.
void *dpo_mpi_in_place(void);

/// MPI_STATUSES_IGNORE, for MPI_Testall and MPI_Waitall when the statuses are not wanted.
MPI_Status *dpo_mpi_statuses_ignore(void);
/// MPI_STATUS_IGNORE, for MPI_Recv and MPI_Test when the status is not wanted.
MPI_Status *dpo_mpi_status_ignore(void);

/// Makes glibc serve blocks of up to 32 MiB from the heap and never return freed heap memory to
/// the kernel, so the temporary buffers of non-blocking collectives are reused instead of being
/// unmapped and faulted in again every step. A no-op without glibc.
void dpo_keep_freed_memory_mapped(void);

/// Initializes MPI with MPI_THREAD_FUNNELED (only the thread that called this makes MPI calls),
/// unless it is initialized already, then sets MPI_ERRORS_RETURN on MPI_COMM_WORLD so that later
/// errors come back as codes instead of aborting the job. Returns an MPI error code.
int dpo_mpi_init(void);

/// MPI_Finalize. Returns an MPI error code.
int dpo_mpi_finalize(void);

/// 1 when MPI_Init has been called in this process (even if MPI was finalized since), else 0.
int dpo_mpi_is_initialized(void);

/// 1 when MPI_Finalize has been called in this process, else 0.
int dpo_mpi_is_finalized(void);

/// Writes MPI's description of `code` (MPI_Error_string), NUL-terminated and truncated to
/// `capacity` bytes, into `buffer`. Codes MPI does not know are described by their number.
void dpo_mpi_error_string(int code, char *buffer, int capacity);

/// MPI_Abort on MPI_COMM_WORLD with `code`; ends this process with `code` should MPI_Abort
/// return. Flushes stdout and stderr first.
_Noreturn void dpo_mpi_abort(int code);

#endif
