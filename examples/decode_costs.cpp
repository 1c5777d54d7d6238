// decode_costs.cpp — a C++ host asks chipemu what one decode step of a decoder layer costs on
// corsair (its seven GEMVs and its attention over the cached keys), then runs a small matmul
// on the device's tiles and prints its outputs.
//
// Build and run against the installed package (docs/engine.md "From C"):
//     chipemu cc --host examples/decode_costs.cpp -o decode_costs
//     ./decode_costs [preset] [batch] [cached keys]
// Every figure equals Python's matmul((batch, k), (k, n), mode="timing") and attention(q, k, v,
// mode="timing") on the same preset, and the matmul's outputs Python's matmul(a, b) bit for bit
// (tests/test_examples.py checks them). Shapes: a
// llama-3.2-1b decoder layer (hidden 2048, 32 query heads and 8 KV heads of 64, intermediate
// 8192), MXINT8 activations and K/V, MXINT4 weights.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "chipemu_host.h"

namespace {

struct DeviceCloser {
    void operator()(chipemu_device *d) const { chipemu_device_close(d); }
};
using Device = std::unique_ptr<chipemu_device, DeviceCloser>;

struct Gemv {
    const char *name;
    int64_t k, n;
};

constexpr Gemv kLayer[] = {
    {"wq", 2048, 2048}, {"wk", 2048, 512}, {"wv", 2048, 512}, {"wo", 2048, 2048},
    {"w1", 2048, 8192}, {"w3", 2048, 8192}, {"w2", 8192, 2048},
};

int fail(const char *what, int32_t status) {
    std::fprintf(stderr, "%s: %s (status %d: %s)\n", what, chipemu_last_error(), status,
                 chipemu_status_string(status));
    return 1;
}

}  // namespace

int main(int argc, char **argv) {
    const std::string preset = argc > 1 ? argv[1] : "corsair";
    const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 16;
    const int64_t cached = argc > 3 ? std::atoll(argv[3]) : 1024;
    chipemu_device *raw = nullptr;
    if (int32_t st = chipemu_device_open(preset.c_str(), &raw)) return fail("open", st);
    Device dev(raw);
    const chipemu_device_params *p = chipemu_device_params_of(dev.get());
    std::printf("device %s: %u chiplets, %.2f GHz; batch %lld, mxint8 x mxint4\n",
                chipemu_device_name(dev.get()), p->n_chiplets, p->clock_ghz, (long long)batch);
    int64_t step_cycles = 0, step_fj = 0;
    for (const Gemv &g : kLayer) {
        chipemu_cost c;
        if (int32_t st = chipemu_matmul_cost(dev.get(), batch, g.k, g.n, CHIPEMU_FMT_MXINT8,
                                             CHIPEMU_FMT_MXINT4, &c))
            return fail(g.name, st);
        const chipemu_phase &compute = c.phases[1];    // weights already in the arrays
        std::printf("%s m=%lld k=%lld n=%lld cycles=%lld energy_fj=%lld compute_cycles=%lld "
                    "compute_energy_fj=%lld dimc_fj=%lld\n",
                    g.name, (long long)batch, (long long)g.k, (long long)g.n, (long long)c.cycles,
                    (long long)c.energy_fj, (long long)compute.cycles,
                    (long long)compute.energy_fj, (long long)c.energy_by_component[CHIPEMU_E_DIMC]);
        step_cycles += compute.cycles;
        step_fj += compute.energy_fj;
    }
    // one new token per sequence attends its cached keys: batch, heads, kv heads, 1, keys, 64
    const int64_t shape[6] = {batch, 32, 8, 1, cached, 64};
    chipemu_cost at;
    if (int32_t st = chipemu_attention_cost(dev.get(), shape, CHIPEMU_MASK_NONE, CHIPEMU_FMT_MXINT8,
                                            CHIPEMU_FMT_MXINT8, &at))
        return fail("attention", st);
    std::printf("attention b=%lld hq=32 hkv=8 keys=%lld d=64 cycles=%lld energy_fj=%lld "
                "compute_cycles=%lld compute_energy_fj=%lld\n", (long long)batch,
                (long long)cached, (long long)at.cycles, (long long)at.energy_fj,
                (long long)at.phases[1].cycles, (long long)at.phases[1].energy_fj);
    step_cycles += at.phases[1].cycles;
    step_fj += at.phases[1].energy_fj;
    std::printf("layer step, one op after another: %lld cycles (%.3f us), %.3f uJ\n",
                (long long)step_cycles, step_cycles / (p->clock_ghz * 1e3), step_fj / 1e9);

    // a functional 4 x 128 x 64 matmul: float32 in, the device's float32 out (%a: exact)
    const int64_t m = 4, k = 128, n = 64;
    std::vector<float> a(m * k), b(k * n), y(m * n);
    for (int64_t i = 0; i < m * k; i++) a[i] = static_cast<float>(i % 13 - 6) * 0.25f;
    for (int64_t i = 0; i < k * n; i++) b[i] = static_cast<float>(i % 7 - 3) * 0.125f;
    chipemu_cost c;
    if (int32_t st = chipemu_matmul_run(dev.get(), m, k, n, CHIPEMU_FMT_MXINT8, CHIPEMU_FMT_MXINT4,
                                        a.data(), b.data(), y.data(), &c))
        return fail("matmul_run", st);
    std::printf("matmul 4x128x64 cycles=%lld y:", (long long)c.cycles);
    for (float v : y) std::printf(" %a", v);
    std::printf("\n");
    return 0;
}
