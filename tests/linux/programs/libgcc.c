/* The project's libgcc_s.so.1 through the dynamic loader: dlopen, versioned symbols found with dlsym, 64-bit
 * division from __aeabi_uldivmod / __divdi3 / __moddi3, and a real backtrace with _Unwind_Backtrace (LLVM's
 * EHABI unwinder reading this program's .ARM.exidx tables). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef int (*trace_fn)(void *context, void *arg);
typedef int (*backtrace_fn)(trace_fn, void *);
typedef uintptr_t (*get_ip_fn)(void *);

static get_ip_fn get_ip;
static void *frames[16];
static int depth;

static int collect(void *context, void *arg)
{
    if (depth < 16) {
        frames[depth++] = (void *)get_ip(context);
    }
    return 0;
}

__attribute__((noinline)) static int inner(backtrace_fn backtrace)
{
    depth = 0;
    backtrace(collect, NULL);
    return depth;
}

__attribute__((noinline)) int outer(backtrace_fn backtrace)
{
    int n = inner(backtrace);
    __asm__ volatile("" ::: "memory");
    return n;
}

int main(int argc, char *argv[])
{
    void *lib = dlopen("libgcc_s.so.1", RTLD_NOW);
    if (!lib) {
        printf("dlopen failed: %s\n", dlerror());
        return 1;
    }
    uint64_t (*uldivmod)(uint64_t, uint64_t) = (uint64_t (*)(uint64_t, uint64_t))dlsym(lib, "__aeabi_uldivmod");
    int64_t (*divdi3)(int64_t, int64_t) = (int64_t (*)(int64_t, int64_t))dlsym(lib, "__divdi3");
    int64_t (*moddi3)(int64_t, int64_t) = (int64_t (*)(int64_t, int64_t))dlsym(lib, "__moddi3");
    printf("uldivmod %llu\n", (unsigned long long)uldivmod(1000000000000ull, 7));
    if (argc > 1) {
        fflush(stdout);
        printf("by zero %llu\n", (unsigned long long)uldivmod(5, 0));   /* __aeabi_ldiv0: SIGFPE */
    }
    printf("divdi3 %lld moddi3 %lld\n", (long long)divdi3(-1000000000001ll, 10), (long long)moddi3(-1000000000001ll, 10));

    get_ip = (get_ip_fn)dlsym(lib, "_Unwind_GetIP");
    backtrace_fn backtrace = (backtrace_fn)dlsym(lib, "_Unwind_Backtrace");
    int n = outer(backtrace);
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) && info.dli_sname) {
            printf("frame %s\n", info.dli_sname);
        }
    }
    printf("unwound %d frames\n", n >= 3);
    return 0;
}
