// ember/kernels/cpu.hpp — what this CPU has, what the OS grants, and which kernels may run.
// Layer: kernels (below the GEMM and every vectorised kernel: they all ask here).
//
// Features come from cpuid (leaf 7: AVX-512, AVX512_BF16, VNNI, AMX-TILE/BF16/INT8; leaf 0x1D:
// the tile palette) and from XCR0 through xgetbv (the OS saves zmm state: bits 1, 2, 5–7; tile
// state: bits 17, 18). AMX also needs a per-process grant from Linux,
// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), requested once (thread-safe). A CPU that
// advertises AMX but has no palette 1, or whose OS refuses the grant, runs the next level —
// never SIGILL. EMBER_AMX_PERMISSION=deny simulates a refusal (tests). EMBER_AMX=off keeps the
// AMX kernels out (see detail::amx_enabled).
//
// Levels (Isa), each a superset of the one before on every CPU that has it:
//   generic      portable C++
//   avx2         AVX2 + FMA
//   avx512       AVX-512 F/VL/DQ/BW
//   avx512_bf16  + AVX512_BF16 and AVX512_VNNI (vdpbf16ps, vpdpbusd)
//   amx          + AMX-TILE/BF16/INT8, palette 1 and the OS's grant
// The level in force is the CPU's best unless EMBER_ISA (or set_gemm_isa) forces a lower one,
// which is how tests and benchmarks reach every path on one machine.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ember/core/error.hpp"

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define EMBER_X86 1
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#else
#define EMBER_X86 0
#endif

namespace ember {

/// Instruction-set levels with kernels, from least to most capable (see the file comment).
enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2, Avx512Bf16 = 3, Amx = 4 };

constexpr std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic:
      return "generic";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx512Bf16:
      return "avx512_bf16";
    case Isa::Amx:
      return "amx";
  }
  return "unknown";
}

/// What the CPU reports and the OS enables (not counting the AMX grant; see amx_granted()).
struct CpuFeatures {
  bool amd = false;          // vendor AuthenticAMD
  bool avx2_fma = false;     // AVX2 + FMA, ymm state saved by the OS
  bool avx512 = false;       // AVX-512 F, VL, DQ, BW, zmm state saved by the OS
  bool avx512_bf16 = false;  // vdpbf16ps, vcvtne2ps2bf16
  bool avx512_vnni = false;  // vpdpbusd
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
  bool amx_palette = false;  // palette 1 with at least 8 tiles of 16 rows × 64 bytes
  bool os_amx = false;       // XCR0 bits 17, 18 (XTILECFG, XTILEDATA)
};

namespace detail {

#if EMBER_X86
inline std::uint64_t xgetbv0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t{hi} << 32) | lo;
}
#endif

inline CpuFeatures read_cpu_features() {
  CpuFeatures f;
#if EMBER_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) == 0) return f;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  f.amd = std::string_view(vendor) == "AuthenticAMD";
  __get_cpuid(1, &a, &b, &c, &d);
  const bool osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
  if (!osxsave || max_leaf < 7) return f;
  const std::uint64_t xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
  f.os_amx = (xcr0 & 0x60000) == 0x60000;
  __get_cpuid_count(7, 0, &a, &b, &c, &d);
  const unsigned l7b = b, l7c = c, l7d = d;
  f.avx2_fma = os_ymm && fma && ((l7b >> 5) & 1);
  f.avx512 = os_zmm && ((l7b >> 16) & 1) && ((l7b >> 17) & 1) && ((l7b >> 30) & 1) &&
             ((l7b >> 31) & 1);  // F, DQ, BW, VL
  f.avx512_vnni = f.avx512 && ((l7c >> 11) & 1);
  f.amx_bf16 = (l7d >> 22) & 1;
  f.amx_tile = (l7d >> 24) & 1;
  f.amx_int8 = (l7d >> 25) & 1;
  __get_cpuid_count(7, 1, &a, &b, &c, &d);
  f.avx512_bf16 = f.avx512 && ((a >> 5) & 1);
  if (f.amx_tile && max_leaf >= 0x1d) {
    __get_cpuid_count(0x1d, 0, &a, &b, &c, &d);
    if (a >= 1) {  // highest palette ≥ 1
      __get_cpuid_count(0x1d, 1, &a, &b, &c, &d);
      const unsigned bytes_per_row = b & 0xffff, max_names = b >> 16, max_rows = c & 0xffff;
      f.amx_palette = max_names >= 8 && bytes_per_row >= 64 && max_rows >= 16;
    }
  }
#endif
  return f;
}

/// Whether AMX kernels may be used at all: EMBER_AMX unset, empty, "on" or "1" lets them run
/// where the CPU and OS grant the tiles; "off" or "0" keeps them out (any other value is an
/// error). They were opt-in until the whole test suite had passed on AMX hardware (a Xeon with
/// AMX-TILE/BF16/INT8, 2026-12-04, where that run found the tile-configuration bug described in
/// ukernel_amx.hpp).
inline bool amx_setting(const char* env) {
  if (env == nullptr || *env == '\0') return true;
  const std::string_view v(env);
  if (v == "on" || v == "1") return true;
  if (v == "off" || v == "0") return false;
  fail("EMBER_AMX", "unknown value '", v, "' (expected on, off, 1 or 0)");
}

inline bool amx_enabled() {
  return amx_setting(std::getenv("EMBER_AMX"));
}

/// Asks Linux for the AMX tile data permission; false if refused or not Linux.
inline bool request_amx_permission() {
  const char* env = std::getenv("EMBER_AMX_PERMISSION");
  if (env != nullptr && std::string_view(env) == "deny") return false;  // simulated refusal
#if EMBER_X86 && defined(__linux__) && defined(SYS_arch_prctl)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

}  // namespace detail

/// The CPU's features, read once.
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detail::read_cpu_features();
  return f;
}

/// Whether AMX tiles may be used: the CPU has them, palette 1 fits the kernels, XCR0 enables
/// them, EMBER_AMX is not off (see detail::amx_enabled) and the OS granted this process the
/// permission (asked once, on first call).
inline bool amx_granted() {
  static const bool granted = [] {
    // EMBER_AMX is read first, so a wrong value is an error on every CPU, not only on AMX ones.
    if (!detail::amx_enabled()) return false;
    const CpuFeatures& f = cpu_features();
    if (!(f.amx_tile && f.amx_bf16 && f.amx_int8 && f.amx_palette && f.os_amx && f.avx512_bf16))
      return false;
    return detail::request_amx_permission();
  }();
  return granted;
}

namespace detail {

/// The best level this CPU and OS support.
inline Isa detect_isa() {
  const CpuFeatures& f = cpu_features();
  const bool amx = amx_granted();  // first: it checks EMBER_AMX on every CPU
  if (f.avx512 && f.avx512_bf16 && f.avx512_vnni) return amx ? Isa::Amx : Isa::Avx512Bf16;
  if (f.avx512) return Isa::Avx512;
  if (f.avx2_fma) return Isa::Avx2;
  return Isa::Generic;
}

inline Isa parse_isa(std::string_view s, std::string_view op) {
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16, Isa::Amx}) {
    if (s == isa_name(isa)) return isa;
  }
  fail(op, "unknown ISA '", s, "' (expected generic, avx2, avx512, avx512_bf16 or amx)");
}

inline Isa checked_isa(Isa want, std::string_view op) {
  const Isa have = detect_isa();
  EMBER_CHECK(static_cast<int>(want) <= static_cast<int>(have), op, "ISA ", isa_name(want),
              " is not supported by this CPU (best: ", isa_name(have), ")");
  return want;
}

inline std::atomic<int>& isa_setting() {
  // -1: not decided yet. Decided on first use: EMBER_ISA if set, else the CPU's best.
  static std::atomic<int> isa{-1};
  return isa;
}

}  // namespace detail

/// The level whose kernels run (every kernel family asks here).
inline Isa gemm_isa() {
  int v = detail::isa_setting().load(std::memory_order_relaxed);
  if (v < 0) {
    const char* env = std::getenv("EMBER_ISA");
    Isa isa = env && *env ? detail::checked_isa(detail::parse_isa(env, "EMBER_ISA"), "EMBER_ISA")
                          : detail::detect_isa();
    v = static_cast<int>(isa);
    detail::isa_setting().store(v, std::memory_order_relaxed);
  }
  return static_cast<Isa>(v);
}

/// Forces the level (at most what the CPU supports); for tests and benchmarks.
inline void set_gemm_isa(Isa isa) {
  detail::isa_setting().store(static_cast<int>(detail::checked_isa(isa, "set_gemm_isa")),
                              std::memory_order_relaxed);
}

/// The best level this CPU supports.
inline Isa cpu_isa() {
  return detail::detect_isa();
}

/// Whether the level in force allows AVX-512 code (fp32 kernels, Adam, packing).
inline bool isa_has_avx512() {
  return gemm_isa() >= Isa::Avx512;
}

}  // namespace ember

namespace ember::detail {

// Running a loop body at the widest level allowed. A user's program built without -march flags
// compiles ember's element-wise loops for SSE2; `with_widest_isa(body)` runs `body` inside a copy
// compiled for AVX-512 or AVX2 instead, chosen by gemm_isa() (so EMBER_ISA / set_gemm_isa cap
// it, and tests walk every copy). `flatten` inlines everything the body calls into that copy, so
// the body's loops are vectorised for the copy's registers. Integer and exact float work gives
// the same bits in every copy; a body with polynomials may differ in the last bit where a copy
// contracts a·b + c into an FMA.
#if EMBER_X86
template <class F>
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,bmi2"), flatten)) void
run_flattened_avx512(F& body) {
  body();
}
template <class F>
__attribute__((target("avx2,fma,bmi2"), flatten)) void run_flattened_avx2(F& body) {
  body();
}
#endif

template <class F>
void with_widest_isa(F&& body) {
#if EMBER_X86
  const Isa isa = gemm_isa();
  if (isa >= Isa::Avx512) return run_flattened_avx512(body);
  if (isa >= Isa::Avx2) return run_flattened_avx2(body);
#endif
  body();
}

/// with_widest_isa(body), except that at AVX2 (and below AVX-512) `avx2_form` runs instead: the
/// hand-written __m256 form of a loop that g++ 12 leaves scalar in the AVX2 copy (exp, tanh and
/// GELU, whose clamps stay branches under -ftrapping-math). Also right inside a with_widest_isa
/// body: the AVX-512 copy then runs `body` as it is, the AVX2 copy `avx2_form`.
template <class F, class A>
void with_widest_isa(F&& body, A&& avx2_form) {
#if EMBER_X86
  const Isa isa = gemm_isa();
  if (isa >= Isa::Avx512) return run_flattened_avx512(body);
  if (isa >= Isa::Avx2) return avx2_form();
#else
  (void)avx2_form;
#endif
  body();
}

}  // namespace ember::detail
