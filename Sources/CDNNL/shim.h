// oneDNN's C API (Debian's libdnnl-dev ships no pkg-config file, hence `link "dnnl"` in the
// module map), and the OpenMP runtime calls its threading and the kernels' threads need.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>

// The OpenMP runtime libdnnl already loaded (libgomp: oneDNN is built with OpenMP), looked up at run
// time so the build needs no OpenMP development files. All null when there is none (a oneDNN built
// with another threading runtime). Looked up once; concurrent first calls store the same values.
struct dpo_omp_runtime {
    void (*set_num_threads)(int);
    int (*thread_num)(void);
    int (*num_threads)(void);
    // libgomp's entry for `#pragma omp parallel num_threads(n)`: runs fn(data) on a team of n.
    void (*parallel)(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
};

static inline const struct dpo_omp_runtime *dpo_omp(void) {
    static struct dpo_omp_runtime runtime;
    static int looked = 0;
    if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {
        struct dpo_omp_runtime found;
        found.set_num_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
        found.thread_num = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_thread_num");
        found.num_threads = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_num_threads");
        found.parallel = (void (*)(void (*)(void *), void *, unsigned, unsigned))dlsym(RTLD_DEFAULT, "GOMP_parallel");
        runtime = found;
        __atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
    }
    return &runtime;
}

// Sets the OpenMP team size of the calling thread, which is how many threads oneDNN uses for the
// primitives that thread executes. Returns 0 when there is no OpenMP runtime.
static inline int dpo_omp_set_num_threads(int threads) {
    const struct dpo_omp_runtime *omp = dpo_omp();
    if (!omp->set_num_threads) return 0;
    omp->set_num_threads(threads);
    return 1;
}

typedef void (*dpo_team_body)(void *context, int worker);

struct dpo_team_call {
    dpo_team_body body;
    void *context;
    int workers;
    const struct dpo_omp_runtime *omp;
};

static void dpo_team_entry(void *data) {
    const struct dpo_team_call *call = (const struct dpo_team_call *)data;
    // A team smaller than asked for (a nested region runs on one thread) shares out the workers.
    int size = call->omp->num_threads();
    for (int worker = call->omp->thread_num(); worker < call->workers; worker += size) {
        call->body(call->context, worker);
    }
}

// Calls body(context, w) for every w in 0..<workers on the calling thread's OpenMP team of `workers`
// threads, the team oneDNN's products run on, and returns when all are done. Returns 0 (calling
// nothing) when there is no OpenMP runtime.
static inline int dpo_omp_team_run(int workers, dpo_team_body body, void *context) {
    const struct dpo_omp_runtime *omp = dpo_omp();
    if (!omp->parallel || !omp->thread_num || !omp->num_threads) return 0;
    struct dpo_team_call call = { body, context, workers, omp };
    omp->parallel(dpo_team_entry, &call, (unsigned)workers, 0);
    return 1;
}
