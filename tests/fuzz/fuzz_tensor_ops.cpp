// libFuzzer target: tensor ops driven by fuzzed shapes, strides and axes — permute, transpose,
// reshape, slice, reduce, broadcast add and matmul — on views of every stride pattern these ops
// make, each checked exactly against a naive reference on a dense row-major copy (the values
// are small integers, so every float result is exact). Arguments built to be valid must never
// raise; raw fuzzed arguments (huge or negative axes, steps, shapes) must either raise
// ember::Error or work, and never crash or read out of bounds.
//   scripts/fuzz.sh tensor_ops      (or: build/fuzz/tests/fuzz_tensor_ops -max_total_time=60)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <vector>

#include <ember/ember.hpp>

namespace {

using ember::Tensor;

struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    std::int64_t r;
    std::memcpy(&r, &v, 8);
    return r;
  }
  bool done() const { return n == 0; }
};

// The reference: a dense row-major array with its shape.
struct Ref {
  std::vector<std::int64_t> shape;
  std::vector<double> v;
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  std::vector<std::int64_t> strides() const {
    std::vector<std::int64_t> s(shape.size(), 1);
    for (std::size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
    return s;
  }
};

[[noreturn]] void mismatch(const char* what) {
  std::fprintf(stderr, "fuzz_tensor_ops: %s\n", what);
  std::abort();
}

void check(const Tensor<float>& t, const Ref& r, const char* op) {
  if (t.dim() != static_cast<int>(r.shape.size())) mismatch(op);
  for (int i = 0; i < t.dim(); ++i) {
    if (t.shape()[i] != r.shape[static_cast<std::size_t>(i)]) mismatch(op);
  }
  const std::vector<float> got = t.contiguous().to_vector();
  if (got.size() != r.v.size()) mismatch(op);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (static_cast<double>(got[i]) != r.v[i]) mismatch(op);
  }
}

Ref permute_ref(const Ref& a, const std::vector<int>& axes) {
  Ref r;
  for (int ax : axes) r.shape.push_back(a.shape[static_cast<std::size_t>(ax)]);
  r.v.resize(a.v.size());
  const auto as = a.strides(), rs = r.strides();
  for (std::int64_t i = 0; i < r.numel(); ++i) {
    std::int64_t src = 0, rem = i;
    for (std::size_t d = 0; d < axes.size(); ++d) {
      const std::int64_t idx = rem / rs[d];
      rem %= rs[d];
      src += idx * as[static_cast<std::size_t>(axes[d])];
    }
    r.v[static_cast<std::size_t>(i)] = a.v[static_cast<std::size_t>(src)];
  }
  return r;
}

// Python slicing of a dim of size n: the indices taken.
std::vector<std::int64_t> slice_indices(std::int64_t n, std::int64_t start, std::int64_t stop,
                                        std::int64_t step) {
  auto clamp = [n](std::int64_t i) {
    if (i < 0) i += n;
    return i < 0 ? 0 : (i > n ? n : i);
  };
  std::vector<std::int64_t> out;
  for (std::int64_t i = clamp(start), hi = clamp(stop); i < hi; i += step) {
    out.push_back(i);
    if (hi - i <= step) break;  // no overflow of i + step
  }
  return out;
}

Ref slice_ref(const Ref& a, int ax, const std::vector<std::int64_t>& idx) {
  Ref r = a;
  r.shape[static_cast<std::size_t>(ax)] = static_cast<std::int64_t>(idx.size());
  r.v.assign(static_cast<std::size_t>(r.numel()), 0.0);
  const auto as = a.strides(), rs = r.strides();
  for (std::int64_t i = 0; i < r.numel(); ++i) {
    std::int64_t src = 0, rem = i;
    for (std::size_t d = 0; d < r.shape.size(); ++d) {
      std::int64_t k = rem / rs[d];
      rem %= rs[d];
      if (static_cast<int>(d) == ax) k = idx[static_cast<std::size_t>(k)];
      src += k * as[d];
    }
    r.v[static_cast<std::size_t>(i)] = a.v[static_cast<std::size_t>(src)];
  }
  return r;
}

Ref sum_ref(const Ref& a, int ax, bool keepdim) {
  Ref r = a;
  r.shape[static_cast<std::size_t>(ax)] = 1;
  r.v.assign(static_cast<std::size_t>(r.numel()), 0.0);
  const auto as = a.strides(), rs = r.strides();
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    std::int64_t dst = 0, rem = i;
    for (std::size_t d = 0; d < a.shape.size(); ++d) {
      const std::int64_t k = rem / as[d];
      rem %= as[d];
      if (static_cast<int>(d) != ax) dst += k * rs[d];
    }
    r.v[static_cast<std::size_t>(dst)] += a.v[static_cast<std::size_t>(i)];
  }
  if (!keepdim) r.shape.erase(r.shape.begin() + ax);
  return r;
}

// a + b with b's shape broadcast to a's (b is built broadcast-compatible: each dim 1 or equal).
Ref add_ref(const Ref& a, const Ref& b) {
  Ref r = a;
  const auto as = a.strides(), bs = b.strides();
  const std::size_t off = a.shape.size() - b.shape.size();
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    std::int64_t src = 0, rem = i;
    for (std::size_t d = 0; d < a.shape.size(); ++d) {
      const std::int64_t k = rem / as[d];
      rem %= as[d];
      if (d >= off && b.shape[d - off] != 1) src += k * bs[d - off];
    }
    r.v[static_cast<std::size_t>(i)] += b.v[static_cast<std::size_t>(src)];
  }
  return r;
}

Ref matmul_ref(const Ref& a, const Ref& b) {  // (m, k) · (k, n)
  const std::int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  Ref r{{m, n}, std::vector<double>(static_cast<std::size_t>(m * n), 0.0)};
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t p = 0; p < k; ++p)
        r.v[static_cast<std::size_t>(i * n + j)] +=
            a.v[static_cast<std::size_t>(i * k + p)] * b.v[static_cast<std::size_t>(p * n + j)];
  return r;
}

Tensor<float> make(const std::vector<std::int64_t>& shape, Ref& ref, std::uint8_t seed) {
  ref.shape = shape;
  ref.v.resize(static_cast<std::size_t>(ref.numel()));
  for (std::size_t i = 0; i < ref.v.size(); ++i) ref.v[i] = static_cast<double>(static_cast<int>((i * 7 + seed) % 11) - 5);
  Tensor<float> t = Tensor<float>::empty(ember::Shape(shape.begin(), shape.end()));
  for (std::size_t i = 0; i < ref.v.size(); ++i) t.data()[i] = static_cast<float>(ref.v[i]);
  return t;
}

// Largest |value| in the reference: ops run only while every partial result stays an integer
// below 2^23, so float arithmetic is exact and the comparison can be exact too.
double max_abs(const Ref& r) {
  double m = 0;
  for (double v : r.v) m = std::max(m, v < 0 ? -v : v);
  return m;
}
constexpr double kExact = 1 << 23;

// Runs `f` on raw (possibly invalid) arguments: ember::Error is fine, anything else surfaces.
template <class F>
void raw(F&& f) {
  try {
    f();
  } catch (const ember::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in{data, size};
  ember::set_num_threads(1 + in.u8() % 2);
  std::vector<std::int64_t> shape(in.u8() % 4);
  for (auto& d : shape) d = in.u8() % 5;
  Ref ref;
  Tensor<float> t = make(shape, ref, in.u8());
  for (int step = 0; step < 12 && !in.done(); ++step) {
    const int rank = t.dim();
    switch (in.u8() % 8) {
      case 0: {  // permute by a valid permutation (Fisher–Yates from the bytes)
        std::vector<int> axes(static_cast<std::size_t>(rank));
        for (int i = 0; i < rank; ++i) axes[static_cast<std::size_t>(i)] = i;
        for (int i = rank - 1; i > 0; --i) std::swap(axes[static_cast<std::size_t>(i)], axes[in.u8() % (i + 1)]);
        ember::Axes ea;
        for (int a : axes) ea.push_back(in.u8() % 2 ? a : a - rank);  // negative axes too
        t = t.permute(ea);
        ref = permute_ref(ref, axes);
        check(t, ref, "permute");
        break;
      }
      case 1: {  // transpose with raw axes
        const std::int64_t a = static_cast<std::int8_t>(in.u8()), b = static_cast<std::int8_t>(in.u8());
        if (rank > 0 && a >= -rank && a < rank && b >= -rank && b < rank) {
          const int x = static_cast<int>(a < 0 ? a + rank : a), y = static_cast<int>(b < 0 ? b + rank : b);
          std::vector<int> axes(static_cast<std::size_t>(rank));
          for (int i = 0; i < rank; ++i) axes[static_cast<std::size_t>(i)] = i;
          std::swap(axes[static_cast<std::size_t>(x)], axes[static_cast<std::size_t>(y)]);
          t = t.transpose(a, b);
          ref = permute_ref(ref, axes);
          check(t, ref, "transpose");
        } else {
          raw([&] { t.transpose(a, b); });
        }
        break;
      }
      case 2: {  // reshape: flatten, split the last dim, or a raw shape
        const int how = in.u8() % 3;
        if (how == 0) {
          t = t.reshape({-1});
          ref.shape = {ref.numel()};
        } else if (how == 1 && rank > 0 && rank < 6) {
          const std::int64_t last = ref.shape.back(), k = 1 + in.u8() % 4;
          if (last % k == 0) {
            ember::Shape s(ref.shape.begin(), ref.shape.end() - 1);
            s.push_back(last / k);
            s.push_back(k);
            t = t.reshape(s);
            ref.shape.back() = last / k;
            ref.shape.push_back(k);
          }
        } else {
          ember::Shape s;
          for (int i = in.u8() % 4; i > 0; --i) s.push_back(in.u8() % 2 ? in.i64() : static_cast<std::int8_t>(in.u8()));
          raw([&] { t.reshape(s); });
          raw([&] { t.view(s); });
        }
        check(t, ref, "reshape");
        break;
      }
      case 3: {  // slice: Python semantics, small bounds or raw extremes
        if (rank == 0) break;
        const int ax = in.u8() % rank;
        const bool extreme = in.u8() % 4 == 0;
        const std::int64_t start = extreme ? in.i64() : static_cast<std::int8_t>(in.u8()) % 7;
        const std::int64_t stop = extreme ? in.i64() : static_cast<std::int8_t>(in.u8()) % 7;
        const std::int64_t st = extreme ? in.i64() : 1 + in.u8() % 4;
        if (st <= 0) {
          raw([&] { t.slice(ax, start, stop, st); });
          break;
        }
        t = t.slice(ax - (in.u8() % 2 ? rank : 0), start, stop, st);
        ref = slice_ref(ref, ax, slice_indices(ref.shape[static_cast<std::size_t>(ax)], start, stop, st));
        check(t, ref, "slice");
        break;
      }
      case 4: {  // sum over one axis, or raw axes
        if (rank == 0 || in.u8() % 5 == 0) {
          const std::int64_t ax = in.i64();
          raw([&] { ember::sum(t, {ax}); });
          break;
        }
        const int ax = in.u8() % rank;
        const bool keep = in.u8() % 2;
        if (max_abs(ref) * static_cast<double>(ref.shape[static_cast<std::size_t>(ax)]) > kExact) break;
        t = ember::sum(t, {ax}, keep);
        ref = sum_ref(ref, ax, keep);
        check(t, ref, "sum");
        break;
      }
      case 5: {  // broadcast add of a compatible tensor (each dim 1 or equal, fewer dims)
        std::vector<std::int64_t> bshape;
        for (std::size_t d = in.u8() % (ref.shape.size() + 1); d < ref.shape.size(); ++d) {
          bshape.push_back(in.u8() % 2 ? ref.shape[d] : 1);
        }
        Ref rb;
        Tensor<float> b = make(bshape, rb, in.u8());
        if (max_abs(ref) + 5 > kExact) break;
        t = t + b;
        ref = add_ref(ref, rb);
        check(t, ref, "add");
        break;
      }
      case 6: {  // matmul of a 2-D tensor by (k, n); other ranks with raw shapes
        if (rank == 2 && ref.numel() <= 64 && max_abs(ref) * 5 * static_cast<double>(ref.shape[1]) <= kExact) {
          Ref rb;
          Tensor<float> b = make({ref.shape[1], in.u8() % 5}, rb, in.u8());
          Tensor<float> bt = in.u8() % 2 ? b : b.t().contiguous().t();  // column-major B too
          t = ember::matmul(t, bt);
          ref = matmul_ref(ref, rb);
          check(t, ref, "matmul");
        } else {
          std::vector<std::int64_t> bshape(1 + in.u8() % 3);
          for (auto& d : bshape) d = in.u8() % 5;
          Ref rb;
          Tensor<float> b = make(bshape, rb, 0);
          raw([&] { ember::matmul(t, b); });
        }
        break;
      }
      case 7: {  // expand / broadcast_to a raw target
        ember::Shape s;
        for (int i = in.u8() % 5; i > 0; --i) s.push_back(in.u8() % 3 ? static_cast<std::int64_t>(in.u8() % 5) : in.i64());
        raw([&] {
          const Tensor<float> e = t.expand(s);  // a view: overflow checks, no allocation
          if (e.numel() <= 4096) check(e.contiguous().reshape({-1}).narrow(0, 0, 0), Ref{{0}, {}}, "expand");
        });
        break;
      }
    }
    if (ref.numel() > 4096) break;  // keep each input fast
  }
  return 0;
}
