// oneDNN's C API (Debian's libdnnl-dev ships no pkg-config file, hence `link "dnnl"` in the
// module map), and the one OpenMP call its threading needs.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>

// Sets the OpenMP team size of the calling thread, which is how many threads oneDNN (built with
// OpenMP) uses for the primitives that thread executes. Looked up at run time in the OpenMP runtime
// libdnnl already loaded, so the build needs no OpenMP development files. Returns 0 when there is
// no OpenMP runtime (a oneDNN built with another threading runtime).
static inline int dpo_omp_set_num_threads(int threads) {
    static void (*set)(int) = 0;
    static int looked = 0;
    if (!looked) {
        set = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
        looked = 1;
    }
    if (!set) return 0;
    set(threads);
    return 1;
}
