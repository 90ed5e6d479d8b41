#include "deploy/c_codegen.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"

namespace nas::deploy {
namespace {

const char* kPrelude = R"(#include <stddef.h>
#include <stdint.h>

/* Every data operation of the network goes through these macros (index arithmetic does not).
   Right shifts of negative values are arithmetic (as on every C99 compiler this targets);
   left shifts go through unsigned types, where C99 defines them. */
#ifdef NAS_COUNT_OPS
typedef struct { unsigned long long mul, shift, add, cmp; } nas_op_counter;
static nas_op_counter nas_count;
#define NAS_ADD(a, b) (nas_count.add++, (a) + (b))
#define NAS_SUB(a, b) (nas_count.add++, (a) - (b))
#define NAS_SHL32(a, k) (nas_count.shift++, (int32_t)((uint32_t)(a) << (k)))
#define NAS_SHL64(a, k) (nas_count.shift++, (int64_t)((uint64_t)(a) << (k)))
#define NAS_SHR(a, k) (nas_count.shift++, (a) >> (k))
#define NAS_ABS(a) (nas_count.cmp++, ((a) < 0 ? -(a) : (a)))
#define NAS_LT(a, b) (nas_count.cmp++, (a) < (b))
#define NAS_GT(a, b) (nas_count.cmp++, (a) > (b))
#define NAS_MUL(a, b) (nas_count.mul++, (a) * (b))
#else
#define NAS_ADD(a, b) ((a) + (b))
#define NAS_SUB(a, b) ((a) - (b))
#define NAS_SHL32(a, k) ((int32_t)((uint32_t)(a) << (k)))
#define NAS_SHL64(a, k) ((int64_t)((uint64_t)(a) << (k)))
#define NAS_SHR(a, k) ((a) >> (k))
#define NAS_ABS(a) ((a) < 0 ? -(a) : (a))
#define NAS_LT(a, b) ((a) < (b))
#define NAS_GT(a, b) ((a) > (b))
#define NAS_MUL(a, b) ((a) * (b))
#endif

)";

// INT32_MIN is not a literal in C (2147483648 does not fit int).
std::string c_int32_literal(int64_t v) { return v == -2147483648LL ? "(-2147483647 - 1)" : std::to_string(v); }

std::string c_int_type(int bytes) { return bytes == 1 ? "int8_t" : bytes == 2 ? "int16_t" : bytes == 4 ? "int32_t" : "int64_t"; }

// The C types of one step: the accumulator (int32 where the overflow proof allows) and the
// requantization's v (int32 where its bound fits, int64 otherwise), with their left-shift macros.
struct StepTypes {
  std::string acc, acc_shl, rq, rq_shl, clamp;
};

StepTypes step_types(const IntStep& st) {
  StepTypes t;
  const bool acc32 = st.acc_bits == 32;
  const bool rq32 = acc32 && st.requant_bound <= std::numeric_limits<int32_t>::max();
  t.acc = acc32 ? "int32_t" : "int64_t";
  t.acc_shl = acc32 ? "NAS_SHL32" : "NAS_SHL64";
  t.rq = rq32 ? "int32_t" : "int64_t";
  t.rq_shl = rq32 ? "NAS_SHL32" : "NAS_SHL64";
  // After the rounding right shift R_c: |y| <= (requant_bound >> R_c) + 1, at most that for the
  // smallest R_c of the step.
  int min_rshift = 62;
  for (int8_t r : st.rshift) min_rshift = std::min<int>(min_rshift, r);
  const bool clamp32 = st.rshift.empty() || (st.requant_bound >> min_rshift) + 1 <= std::numeric_limits<int32_t>::max();
  t.clamp = clamp32 ? "int32_t" : "int64_t";
  return t;
}

int64_t sat_add(int64_t a, int64_t b) {
  int64_t out;
  return __builtin_add_overflow(a, b, &out) ? std::numeric_limits<int64_t>::max() : out;
}
int64_t sat_mul(int64_t a, int64_t b) {
  int64_t out;
  return __builtin_mul_overflow(a, b, &out) ? std::numeric_limits<int64_t>::max() : out;
}

// The requantization constants as the C holds them. Per channel, a power of two 2^m (m below the
// smallest term shift and below R_c) is taken out of v exactly: with bias = Bh 2^m + Bl, 0 <= Bl < 2^m,
//   (bias + sum s_t (acc << d_t) + 2^(R_c - 1)) >> R_c == (Bh + sum s_t (acc << (d_t - m)) + 2^(R_c - m - 1)) >> (R_c - m)
// (Bl < 2^m cannot carry past the shift): the same operations, on values 2^m smaller, so that
// more steps requantize in int32. Kept only where the rebased worst case fits int32.
IntStep rebased_requant(const IntStep& st) {
  if (st.kind == StepKind::Residual || st.multiplier_mode || st.acc_bits != 32 ||
      st.requant_bound <= std::numeric_limits<int32_t>::max())
    return st;
  IntStep out = st;
  int64_t bound = 0;
  for (int64_t c = 0; c < st.c_out; ++c) {
    const size_t cc = static_cast<size_t>(c);
    int m = st.rshift[cc] - 1;
    for (int t = 0; t < st.terms; ++t) {
      const int code = st.term_code[cc * static_cast<size_t>(st.terms) + static_cast<size_t>(t)];
      if (code != 0) m = std::min(m, std::abs(code) - 1);
    }
    m = std::max(m, 0);
    int64_t gain = 0;
    for (int t = 0; t < st.terms; ++t) {
      int8_t& code = out.term_code[cc * static_cast<size_t>(st.terms) + static_cast<size_t>(t)];
      if (code == 0) continue;
      code = static_cast<int8_t>(code > 0 ? code - m : code + m);
      gain = sat_add(gain, int64_t{1} << (std::abs(code) - 1));
    }
    out.bias[cc] = st.bias[cc] >> m;  // floor
    out.rshift[cc] = static_cast<int8_t>(st.rshift[cc] - m);
    const int r = out.rshift[cc];
    const int64_t magnitude = out.bias[cc] < 0 ? -out.bias[cc] : out.bias[cc];
    bound = std::max(bound, sat_add(sat_add(sat_mul(st.acc_bound, gain), magnitude), r > 0 ? int64_t{1} << (r - 1) : 0));
  }
  if (bound > std::numeric_limits<int32_t>::max()) return st;
  out.requant_bound = bound;
  return out;
}

// for (j = lo; j < hi; ++j) body, split into loops of 16 k, 8, 4 iterations and the rest: every
// trip count is a constant and the first ones are multiples of the vector width, which is what
// gcc -O2's cheap vectoriser needs (it leaves no scalar epilogue).
void pixel_loops(std::ostringstream& s, const std::string& ind, int64_t lo, int64_t hi, const std::string& body) {
  while (lo < hi) {
    const int64_t n = hi - lo, take = n >= 16 ? n / 16 * 16 : n >= 8 ? 8 : n >= 4 ? 4 : n;
    s << ind << "for (j = " << lo << "; j < " << lo + take << "; ++j) " << body << "\n";
    lo += take;
  }
}

// x s (the input column of output column j), without a multiplication.
std::string strided(const std::string& j, int64_t stride) {
  std::string out = j;
  for (int64_t k = 1; k < stride; ++k) out += " + " + j;
  return out;
}

std::string offset_literal(int64_t v) { return v == 0 ? "" : v > 0 ? " + " + std::to_string(v) : " - " + std::to_string(-v); }

std::string clamp_literal(int64_t v, const std::string& type) {
  if (type == "int32_t") v = std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  return type == "int32_t" ? c_int32_literal(v) : v == std::numeric_limits<int64_t>::min() ? "INT64_MIN" : std::to_string(v) + "LL";
}

// Whether a step's code holds no multiplication (it goes between the MF markers).
bool step_is_mf(const IntStep& st) {
  if (st.kind == StepKind::Residual) return true;
  if (st.multiplier_mode) return false;
  return st.kind == StepKind::Pool || st.op != OpKind::Mult;
}

// The sign of each term and whether the rounding shift is there: what a channel's requantization
// loop depends on. A step has few of these (usually two), known at export.
struct RequantShape {
  std::vector<int> signs;
  bool round = false;
  bool operator<(const RequantShape& o) const { return std::tie(signs, round) < std::tie(o.signs, o.round); }
};

constexpr size_t kMaxRequantShapes = 4;  // more: one loop with selects on the signs

// Requantization of acc[0, n) for output channel o (code offset co) into out[<out_index>] (j the
// element): int_model.h's rule in one loop per channel shape (the signs of the channel's terms and
// its rounding, known at export), chosen once per channel, so that the loop has no branch and
// vectorises; steps with many shapes get one loop with loop-invariant selects. After the rounding
// shift the value is narrowed to the clamp type (int32 where the bound proves it fits).
void emit_requant(std::ostringstream& s, const std::string& ind, const IntStep& st, const std::string& p, const StepTypes& t,
                  int64_t n, const std::string& out_index, const std::string& out_type) {
  const std::string& R = t.rq;
  const std::string& Y = t.clamp;
  s << ind << "{\n";
  const std::string in = ind + "  ";
  s << in << "const " << R << " bias = (" << R << ")" << p << "_bias[o];\n";
  if (st.multiplier_mode) s << in << "const " << R << " mult = (" << R << ")" << p << "_mult[o];\n";
  const int terms = st.multiplier_mode ? 0 : st.terms;
  for (int k = 0; k < terms; ++k) {
    const std::string c = "c" + std::to_string(k), e = "e" + std::to_string(k);
    s << in << "const int " << c << " = " << p << "_codes[co" << offset_literal(k) << "], " << e << " = " << c << " > 0 ? " << c
      << " - 1 : " << c << " < 0 ? -" << c << " - 1 : 0;\n";
  }
  std::set<RequantShape> shapes;
  for (int64_t c = 0; c < st.c_out; ++c) {
    RequantShape shape;
    for (int k = 0; k < terms; ++k) {
      const int code = st.term_code[static_cast<size_t>(c * terms + k)];
      shape.signs.push_back(code > 0 ? 1 : code < 0 ? -1 : 0);
    }
    shape.round = st.rshift[static_cast<size_t>(c)] > 0;
    shapes.insert(shape);
  }
  const bool select = shapes.size() > kMaxRequantShapes;
  bool rounds = select;
  for (const RequantShape& shape : shapes) rounds = rounds || shape.round;
  s << in << "const int r = " << p << "_rshift[o];\n";
  if (!rounds && shapes.size() == 1) s << in << "(void)r; /* no channel rounds */\n";
  if (rounds) s << in << "const " << R << " half = r > 0 ? (" << R << ")1 << (r - 1) : 0;\n";
  const std::string lo = clamp_literal(st.clamp_lo, Y), hi = clamp_literal(st.clamp_hi, Y);
  // The loop body; shape null: selects on the channel's values.
  auto body = [&](const RequantShape* shape, const std::string& ind2) {
    std::ostringstream b;
    b << "{\n" << ind2 << "  const " << R << " x = (" << R << ")acc[j];\n";
    if (st.multiplier_mode) {
      b << ind2 << "  " << R << " v = NAS_ADD(bias, NAS_MUL(x, mult));\n";
    } else {
      b << ind2 << "  " << R << " v = bias;\n";
      for (int k = 0; k < terms; ++k) {
        const std::string c = "c" + std::to_string(k), e = "e" + std::to_string(k);
        const std::string add = "NAS_ADD(v, " + t.rq_shl + "(x, " + e + "))", sub = "NAS_SUB(v, " + t.rq_shl + "(x, " + e + "))";
        if (!shape)
          b << ind2 << "  v = " << c << " > 0 ? " << add << " : " << c << " < 0 ? " << sub << " : v;\n";
        else if (shape->signs[static_cast<size_t>(k)] != 0)
          b << ind2 << "  v = " << (shape->signs[static_cast<size_t>(k)] > 0 ? add : sub) << ";\n";
      }
    }
    if (!shape)
      b << ind2 << "  v = r > 0 ? NAS_SHR(NAS_ADD(v, half), r) : v;\n";
    else if (shape->round)
      b << ind2 << "  v = NAS_SHR(NAS_ADD(v, half), r);\n";
    b << ind2 << "  {\n" << ind2 << "    " << Y << " y = (" << Y << ")v;\n"
      << ind2 << "    y = NAS_LT(y, " << lo << ") ? " << lo << " : y;\n"
      << ind2 << "    y = NAS_GT(y, " << hi << ") ? " << hi << " : y;\n"
      << ind2 << "    out[" << out_index << "] = (" << out_type << ")y;\n"
      << ind2 << "  }\n" << ind2 << "}";
    return b.str();
  };
  if (select) {
    pixel_loops(s, in, 0, n, body(nullptr, in));
  } else {
    size_t k = 0;
    for (const RequantShape& shape : shapes) {
      const bool last = ++k == shapes.size();
      if (shapes.size() > 1) {
        std::string cond;
        for (size_t i = 0; i < shape.signs.size(); ++i)
          cond += "c" + std::to_string(i) + (shape.signs[i] > 0 ? " > 0" : shape.signs[i] < 0 ? " < 0" : " == 0") + " && ";
        cond += shape.round ? "r > 0" : "r == 0";
        s << in << (k == 1 ? "if (" + cond + ") {" : last ? "} else { /* " + cond + " */" : "} else if (" + cond + ") {") << "\n";
      }
      pixel_loops(s, shapes.size() > 1 ? in + "  " : in, 0, n, body(&shape, shapes.size() > 1 ? in + "  " : in));
    }
    if (shapes.size() > 1) s << in << "}\n";
  }
  s << ind << "}\n";
}

// The accumulation of one weight over acc[lo, hi): X is the input expression (j the element), w
// the weight expression. Shift weights branch on the sign once per weight, outside the loop.
void emit_tap(std::ostringstream& s, const std::string& ind, const IntStep& st, const StepTypes& t, int64_t lo, int64_t hi,
              const std::string& x, const std::string& w) {
  if (lo >= hi) return;
  const std::string& A = t.acc;
  if (st.op == OpKind::Shift) {
    s << ind << "if (" << w << " > 0) {\n" << ind << "  const int e = " << w << " - 1;\n";
    pixel_loops(s, ind + "  ", lo, hi, "acc[j] = NAS_ADD(acc[j], " + t.acc_shl + "(" + x + ", e));");
    s << ind << "} else if (" << w << " < 0) {\n" << ind << "  const int e = -" << w << " - 1;\n";
    pixel_loops(s, ind + "  ", lo, hi, "acc[j] = NAS_SUB(acc[j], " + t.acc_shl + "(" + x + ", e));");
    s << ind << "}\n";
  } else if (st.op == OpKind::Mult) {
    s << ind << "{\n" << ind << "  const " << A << " wv = " << w << ";\n";
    pixel_loops(s, ind + "  ", lo, hi, "acc[j] = NAS_ADD(acc[j], NAS_MUL(" + x + ", wv));");
    s << ind << "}\n";
  } else {
    s << ind << "{\n" << ind << "  const " << A << " wv = " << w << ";\n";
    // d first: NAS_ABS evaluates its argument twice.
    pixel_loops(s, ind + "  ", lo, hi, "{\n" + ind + "    const " + A + " d = NAS_SUB(" + x + ", wv);\n" + ind + "    acc[j] = NAS_SUB(acc[j], NAS_ABS(d));\n" + ind + "  }");
    s << ind << "}\n";
  }
}

constexpr int64_t kPixelBlock = 64;  // pointwise layers: output pixels per block (acc on the stack)

// A 1x1, stride 1 convolution on a planar input: blocks of pixels, every output channel of a block
// accumulated over the input channels (the weight is one value per block).
void emit_pointwise(std::ostringstream& s, const IntModel& m, const IntStep& st, const std::string& p, const std::string& fn,
                    const std::string& out_type) {
  const StepTypes t = step_types(st);
  const int64_t P = m.tensors[static_cast<size_t>(st.output)].h * m.tensors[static_cast<size_t>(st.output)].w;
  const int64_t nb = std::min(P, kPixelBlock), full = P / nb * nb, tail = P - full;
  const bool codes = !st.multiplier_mode && st.terms > 0;
  s << "static void " << fn << "(const nas_act_t in[restrict], " << out_type << " out[restrict]) {\n"
    << "  " << t.acc << " acc[" << nb << "];\n"
    << "  int p0, o, i, j, wi, ib, ob" << (codes ? ", co" : "") << ";\n";
  auto body = [&](int64_t n, const std::string& ind) {
    s << ind << "for (o = 0, wi = 0, ob = p0" << (codes ? ", co = 0" : "") << "; o < " << st.c_out << "; ++o, ob += " << P
      << (codes ? ", co += " + std::to_string(st.terms) : "") << ") {\n";
    pixel_loops(s, ind + "  ", 0, n, "acc[j] = 0;");
    s << ind << "  for (i = 0, ib = p0; i < " << st.c_in << "; ++i, ++wi, ib += " << P << ") {\n";
    emit_tap(s, ind + "    ", st, t, 0, n, "(" + t.acc + ")in[ib + j]", p + "_w[wi]");
    s << ind << "  }\n";
    emit_requant(s, ind + "  ", st, p, t, n, "ob + j", out_type);
    s << ind << "}\n";
  };
  if (full > 0) {
    s << "  for (p0 = 0; p0 < " << full << "; p0 += " << nb << ") {\n";
    body(nb, "    ");
    s << "  }\n";
  }
  if (tail > 0) {
    s << "  p0 = " << full << ";\n";
    body(tail, "  ");
  }
  s << "}\n\n";
}

// Any other convolution (the stem on the interleaved image, depthwise, k x k): one output row
// at a time, the taps unrolled at export with their valid column range; padded taps are skipped
// (Shift, Mult) or read 0 (Add), as in the integer engine.
void emit_spatial(std::ostringstream& s, const IntModel& m, const IntStep& st, const std::string& p, const std::string& fn,
                  const std::string& out_type) {
  const StepTypes t = step_types(st);
  const IntTensor& ti = m.tensors[static_cast<size_t>(st.input)];
  const IntTensor& to = m.tensors[static_cast<size_t>(st.output)];
  const bool image = st.input == 0, dw = st.depthwise, add = st.op == OpKind::Add;
  const bool codes = !st.multiplier_mode && st.terms > 0;
  const int64_t K = st.kernel, S = st.stride, pad = st.padding, I = dw ? 1 : st.c_in;
  const int64_t row = image ? ti.w * ti.c : ti.w, plane = ti.h * ti.w, WO = to.w;
  const bool channel_loop = !dw;  // non-depthwise: a loop over the input channels
  s << "static void " << fn << "(const " << (image ? "uint8_t" : "nas_act_t") << " in[restrict], " << out_type
    << " out[restrict]) {\n"
    << "  " << t.acc << " acc[" << WO << "];\n"
    << "  int o, oy, iy0, ry, ob, wo, j" << (codes ? ", co" : "") << (dw && !image ? ", pb" : "")
    << (channel_loop ? ", i" : "") << (channel_loop && !image ? ", ib" : "") << ";\n"
    << "  for (o = 0, wo = 0, ob = 0" << (codes ? ", co = 0" : "") << (dw && !image ? ", pb = 0" : "") << "; o < " << st.c_out
    << "; ++o, wo += " << K * K * I << (codes ? ", co += " + std::to_string(st.terms) : "")
    << (dw && !image ? ", pb += " + std::to_string(plane) : "") << ") {\n"
    << "    for (oy = 0, iy0 = " << -pad << ", ry = " << -pad * row << "; oy < " << to.h << "; ++oy, iy0 += " << S
    << ", ry += " << S * row << ", ob += " << WO << ") {\n";
  pixel_loops(s, "      ", 0, WO, "acc[j] = 0;");
  for (int64_t ky = 0; ky < K; ++ky) {
    std::string ind = "      ";
    s << ind << "if (iy0" << offset_literal(ky) << " >= 0 && iy0" << offset_literal(ky) << " < " << ti.h << ") {\n";
    ind += "  ";
    if (channel_loop) {
      s << ind << "for (i = 0" << (image ? "" : ", ib = 0") << "; i < " << I << "; ++i" << (image ? "" : ", ib += " + std::to_string(plane))
        << ") {\n";
      ind += "  ";
    }
    for (int64_t kx = 0; kx < K; ++kx) {
      // Valid output columns: 0 <= j S + kx - pad < w_in.
      int64_t lo = 0, hi = 0;
      for (int64_t j = 0; j < WO; ++j) {
        const int64_t ix = j * S + kx - pad;
        if (ix < 0) lo = j + 1;
        if (ix < ti.w) hi = j + 1;
      }
      hi = std::max(hi, lo);
      const std::string w = p + "_w[wo + " + std::to_string((ky * K + kx) * I) + (channel_loop ? " + i" : "") + "]";
      std::string x;
      if (image) {
        const std::string zp = "nas_zero_point[" + std::string(dw ? "o" : "i") + "]";
        x = "NAS_SUB((" + t.acc + ")in[ry" + offset_literal(ky * row) + offset_literal((kx - pad) * ti.c) + " + " + strided("j", S * ti.c) +
            (dw ? " + o" : " + i") + "], (" + t.acc + ")" + zp + ")";
      } else {
        x = "(" + t.acc + ")in[" + std::string(dw ? "pb" : "ib") + " + ry" + offset_literal(ky * row) + offset_literal(kx - pad) + " + " +
            strided("j", S) + "]";
      }
      emit_tap(s, ind, st, t, lo, hi, x, w);
      if (add) {  // padded taps of an adder layer read 0
        emit_tap(s, ind, st, t, 0, lo, "(" + t.acc + ")0", w);
        emit_tap(s, ind, st, t, hi, WO, "(" + t.acc + ")0", w);
      }
    }
    if (channel_loop) s << "        }\n";
    s << "      }";
    if (add) {
      s << " else {\n";
      if (channel_loop) s << "        for (i = 0; i < " << I << "; ++i) {\n";
      for (int64_t kx = 0; kx < K; ++kx)
        emit_tap(s, channel_loop ? "          " : "        ", st, t, 0, WO, "(" + t.acc + ")0",
                 p + "_w[wo + " + std::to_string((ky * K + kx) * I) + (channel_loop ? " + i" : "") + "]");
      if (channel_loop) s << "        }\n";
      s << "      }";
    }
    s << "\n";
  }
  emit_requant(s, "      ", st, p, t, WO, "ob + j", out_type);
  s << "    }\n  }\n}\n\n";
}

void emit_pool(std::ostringstream& s, const IntModel& m, const IntStep& st, const std::string& p, const std::string& fn,
               const std::string& out_type) {
  const StepTypes t = step_types(st);
  const IntTensor& ti = m.tensors[static_cast<size_t>(st.input)];
  const int64_t P = ti.h * ti.w;
  const bool codes = !st.multiplier_mode && st.terms > 0;
  s << "static void " << fn << "(const nas_act_t in[restrict], " << out_type << " out[restrict]) {\n"
    << "  " << t.acc << " acc[1];\n"
    << "  int o, ib, p, j" << (codes ? ", co" : "") << ";\n"
    << "  for (o = 0, ib = 0" << (codes ? ", co = 0" : "") << "; o < " << ti.c << "; ++o, ib += " << P
    << (codes ? ", co += " + std::to_string(st.terms) : "") << ") {\n"
    << "    " << t.acc << " sum = 0;\n"
    << "    for (p = 0; p < " << P << "; ++p) sum = NAS_ADD(sum, (" << t.acc << ")in[ib + p]);\n"
    << "    acc[0] = sum;\n";
  emit_requant(s, "    ", st, p, t, 1, "o + j", out_type);
  s << "  }\n}\n\n";
}

void emit_residual(std::ostringstream& s, const IntModel& m, const IntStep& st, const std::string& fn) {
  const bool narrow = std::abs(st.shift_a) <= 14 && std::abs(st.shift_b) <= 14;
  const std::string T = narrow ? "int32_t" : "int64_t", shl = narrow ? "NAS_SHL32" : "NAS_SHL64";
  auto rescale = [&](const std::string& x, int k) -> std::string {
    if (k > 0) return "NAS_SHR(NAS_ADD((" + T + ")" + x + ", (" + T + ")" + std::to_string(int64_t{1} << (k - 1)) + "), " + std::to_string(k) + ")";
    if (k < 0) return shl + "((" + T + ")" + x + ", " + std::to_string(-k) + ")";
    return "(" + T + ")" + x;
  };
  const std::string lo = clamp_literal(st.clamp_lo, T), hi = clamp_literal(st.clamp_hi, T);
  s << "static void " << fn << "(const nas_act_t a[restrict], const nas_act_t b[restrict], nas_act_t out[restrict]) {\n"
    << "  int j;\n";
  const int64_t n = m.tensors[static_cast<size_t>(st.output)].elements();
  pixel_loops(s, "  ", 0, n,
              "{\n    " + T + " v = NAS_ADD(" + rescale("a[j]", st.shift_a) + ", " + rescale("b[j]", st.shift_b) + ");\n    v = NAS_LT(v, " +
                  lo + ") ? " + lo + " : v;\n    v = NAS_GT(v, " + hi + ") ? " + hi + " : v;\n    out[j] = (nas_act_t)v;\n  }");
  s << "}\n\n";
}

template <typename T>
void emit_array(std::ostringstream& s, const std::string& type, const std::string& name, const std::vector<T>& v) {
  s << "static const " << type << " " << name << "[" << std::max<size_t>(v.size(), 1) << "] = {";
  if (v.empty()) s << "0";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 24 == 0) s << "\n  ";
    s << static_cast<long long>(v[i]) << (type == "int64_t" ? "LL" : "") << (i + 1 < v.size() ? "," : "");
  }
  s << "};\n";
}

// The input resize (int_model.h's rule): per output row the two source rows' offsets and weights,
// per output column the two source pixels' offsets and weights, all fixed at export; int32
// arithmetic (resize_frac_bits <= 11 keeps wy (wx p) + 2^(2q - 1) below 2^31). Multiplicative:
// outside the MF markers, its operations counted as preprocessing (nas_model_resize_ops).
void emit_resize(std::ostringstream& s, const IntModel& m) {
  const ResizeAxis ay = resize_axis(m.source_h, m.image_h, m.resize_frac_bits);
  const ResizeAxis ax = resize_axis(m.source_w, m.image_w, m.resize_frac_bits);
  const int64_t C = m.image_c, row = m.source_w * C, q2 = 2 * m.resize_frac_bits;
  std::vector<int64_t> y0, y1, x0, x1;
  for (size_t i = 0; i < ay.i0.size(); ++i) {
    y0.push_back(ay.i0[i] * row);
    y1.push_back(ay.i1[i] * row);
  }
  for (size_t i = 0; i < ax.i0.size(); ++i) {
    x0.push_back(ax.i0[i] * C);
    x1.push_back(ax.i1[i] * C);
  }
  s << "/* input resize: " << m.source_h << "x" << m.source_w << " -> " << m.image_h << "x" << m.image_w
    << " (x" << C << "), bilinear, align_corners false, weights on 2^-" << m.resize_frac_bits << " */\n";
  emit_array(s, "int32_t", "nas_rs_y0", y0);
  emit_array(s, "int32_t", "nas_rs_y1", y1);
  emit_array(s, "int32_t", "nas_rs_wy0", ay.w0);
  emit_array(s, "int32_t", "nas_rs_wy1", ay.w1);
  emit_array(s, "int32_t", "nas_rs_x0", x0);
  emit_array(s, "int32_t", "nas_rs_x1", x1);
  emit_array(s, "int32_t", "nas_rs_wx0", ax.w0);
  emit_array(s, "int32_t", "nas_rs_wx1", ax.w1);
  s << "static uint8_t nas_resized[" << m.image_h * m.image_w * C << "];\n\n"
    << "static void nas_resize(const uint8_t in[restrict], uint8_t out[restrict]) {\n"
    << "  int oy, ox, c, ob = 0;\n"
    << "  for (oy = 0; oy < " << m.image_h << "; ++oy) {\n"
    << "    const uint8_t *r0 = in + nas_rs_y0[oy], *r1 = in + nas_rs_y1[oy];\n"
    << "    const int32_t wy0 = nas_rs_wy0[oy], wy1 = nas_rs_wy1[oy];\n"
    << "    for (ox = 0; ox < " << m.image_w << "; ++ox) {\n"
    << "      const int32_t wx0 = nas_rs_wx0[ox], wx1 = nas_rs_wx1[ox];\n"
    << "      const int x0 = nas_rs_x0[ox], x1 = nas_rs_x1[ox];\n"
    << "      for (c = 0; c < " << C << "; ++c, ++ob) {\n"
    << "        const int32_t top = NAS_ADD(NAS_MUL(wx0, (int32_t)r0[x0 + c]), NAS_MUL(wx1, (int32_t)r0[x1 + c]));\n"
    << "        const int32_t bottom = NAS_ADD(NAS_MUL(wx0, (int32_t)r1[x0 + c]), NAS_MUL(wx1, (int32_t)r1[x1 + c]));\n"
    << "        const int32_t v = NAS_ADD(NAS_ADD(NAS_MUL(wy0, top), NAS_MUL(wy1, bottom)), (int32_t)" << (int64_t{1} << (q2 - 1)) << ");\n"
    << "        out[ob] = (uint8_t)NAS_SHR(v, " << q2 << ");\n"
    << "      }\n    }\n  }\n}\n\n";
}

GeneratedC generate_c_rebased(const IntModel& m, const std::string& header_name);

}  // namespace

GeneratedC generate_c(const IntModel& m, const std::string& header_name) {
  validate_int_model(m, "C export");
  IntModel rebased = m;
  for (IntStep& st : rebased.steps) st = rebased_requant(st);
  return generate_c_rebased(rebased, header_name);
}

namespace {

GeneratedC generate_c_rebased(const IntModel& m, const std::string& header_name) {
  const int64_t act_bytes = m.act_bytes();
  GeneratedC out;
  std::ostringstream h;
  h << "/* Generated by nas_deploy: an integer, multiplication-free network (" << m.bits << "-bit activations). */\n"
    << "#ifndef NAS_MODEL_H\n#define NAS_MODEL_H\n#include <stdint.h>\n\n"
    << "/* The image as the data set stores it (what nas_model_infer takes) and the network's input. */\n"
    << "#define NAS_MODEL_IMAGE_H " << m.source_h << "\n#define NAS_MODEL_IMAGE_W " << m.source_w
    << "\n#define NAS_MODEL_IMAGE_C " << m.image_c << "\n#define NAS_MODEL_INPUT_H " << m.image_h
    << "\n#define NAS_MODEL_INPUT_W " << m.image_w << "\n#define NAS_MODEL_RESIZES " << (m.resizes() ? 1 : 0)
    << "\n#define NAS_MODEL_NUM_CLASSES " << m.num_classes
    << "\n#define NAS_MODEL_LOGIT_FRAC_BITS " << m.logit_frac_bits << "\n#define NAS_MODEL_ARENA_BYTES " << m.arena_bytes
    << "\n#define NAS_MODEL_STEPS " << m.steps.size() << "\n\n"
    << "/* image: H x W uint8 pixels (one channel) or H x W x C interleaved, as the data set stores them\n"
    << "   (NAS_MODEL_IMAGE_*); resized inside to NAS_MODEL_INPUT_H x NAS_MODEL_INPUT_W where they differ.\n"
    << "   logits: NAS_MODEL_NUM_CLASSES int32, logit k = logits[k] * 2^-NAS_MODEL_LOGIT_FRAC_BITS.\n"
    << "   Returns 0. Not reentrant: the activations live in one static arena. */\n"
    << "int nas_model_infer(const uint8_t *image, int32_t *logits);\n\n"
    << "#ifdef NAS_COUNT_OPS\n/* Counting build: operations of the last call, per step: {mul, shift, add, cmp}. */\n"
    << "extern unsigned long long nas_model_step_ops[NAS_MODEL_STEPS][4];\nextern const char *const nas_model_step_names[NAS_MODEL_STEPS];\n"
    << "/* The input resize's (preprocessing; zero without one). */\nextern unsigned long long nas_model_resize_ops[4];\n#endif\n"
    << "#endif\n";
  out.header = h.str();

  std::ostringstream s;
  s << "/* Generated by nas_deploy. See " << header_name << ". C99, no malloc, no floating point.\n"
    << "   Activations inside the arena are planar (C x H x W), so that a layer's weight is one value over a\n"
    << "   run of pixels; one function per step, its sizes constants. */\n"
    << "#include \"" << header_name << "\"\n" << kPrelude
    << "typedef " << (m.bits == 8 ? "int8_t" : "int16_t") << " nas_act_t;\n\n";
  emit_array(s, "int32_t", "nas_zero_point", m.input_zero_point);
  s << "static nas_act_t nas_arena[" << std::max<int64_t>(m.arena_bytes / act_bytes, 1) << "];\n\n";
  if (m.resizes()) emit_resize(s, m);
  for (size_t k = 0; k < m.steps.size(); ++k) {
    const IntStep& st = m.steps[k];
    const std::string p = "nas_s" + std::to_string(k);
    s << "/* step " << k << ": " << st.name << " (" << step_kind_name(st.kind);
    if (st.kind == StepKind::Conv) s << ", " << op_kind_name(st.op) << ", int" << st.acc_bits << " accumulator";
    s << ") */\n";
    if (st.kind == StepKind::Conv) emit_array(s, c_int_type(weight_element_bytes(st)), p + "_w", st.weight);
    if (st.kind != StepKind::Residual) {
      if (st.multiplier_mode)
        emit_array(s, "int32_t", p + "_mult", st.multiplier);
      else
        emit_array(s, "int8_t", p + "_codes", st.term_code);
      emit_array(s, "int64_t", p + "_bias", st.bias);
      emit_array(s, "int8_t", p + "_rshift", st.rshift);
    }
  }
  auto emit_step = [&](size_t k) {
    const IntStep& st = m.steps[k];
    const std::string p = "nas_s" + std::to_string(k), fn = "nas_step" + std::to_string(k);
    const std::string out_type = k + 1 == m.steps.size() ? "int32_t" : "nas_act_t";
    s << "/* step " << k << ": " << st.name << " */\n";
    if (st.kind == StepKind::Residual) {
      emit_residual(s, m, st, fn);
    } else if (st.kind == StepKind::Pool) {
      emit_pool(s, m, st, p, fn, out_type);
    } else if (st.kernel == 1 && st.stride == 1 && st.padding == 0 && !st.depthwise && st.input != 0) {
      emit_pointwise(s, m, st, p, fn, out_type);
    } else {
      emit_spatial(s, m, st, p, fn, out_type);
    }
  };
  s << "\n/* ---- MF kernels begin: no multiplication below, up to 'MF kernels end' ---- */\n";
  for (size_t k = 0; k < m.steps.size(); ++k)
    if (step_is_mf(m.steps[k])) emit_step(k);
  s << "/* ---- MF kernels end ---- */\n\n";
  for (size_t k = 0; k < m.steps.size(); ++k)
    if (!step_is_mf(m.steps[k])) emit_step(k);

  s << "#ifdef NAS_COUNT_OPS\nunsigned long long nas_model_step_ops[NAS_MODEL_STEPS][4];\n"
    << "unsigned long long nas_model_resize_ops[4];\n"
    << "const char *const nas_model_step_names[NAS_MODEL_STEPS] = {";
  for (size_t k = 0; k < m.steps.size(); ++k) s << (k ? ", " : "") << "\"" << m.steps[k].name << "\"";
  s << "};\n"
    << "static void nas_step_done(int k) {\n"
    << "  nas_model_step_ops[k][0] = nas_count.mul; nas_model_step_ops[k][1] = nas_count.shift;\n"
    << "  nas_model_step_ops[k][2] = nas_count.add; nas_model_step_ops[k][3] = nas_count.cmp;\n"
    << "  nas_count.mul = nas_count.shift = nas_count.add = nas_count.cmp = 0;\n}\n"
    << "#define NAS_STEP_DONE(k) nas_step_done(k)\n#else\n#define NAS_STEP_DONE(k) ((void)0)\n#endif\n\n";

  s << "int nas_model_infer(const uint8_t *image, int32_t *logits) {\n";
  s << "#ifdef NAS_COUNT_OPS\n  nas_count.mul = nas_count.shift = nas_count.add = nas_count.cmp = 0;\n#endif\n";
  if (m.resizes())
    s << "  nas_resize(image, nas_resized);\n"
      << "#ifdef NAS_COUNT_OPS\n  nas_model_resize_ops[0] = nas_count.mul; nas_model_resize_ops[1] = nas_count.shift;\n"
      << "  nas_model_resize_ops[2] = nas_count.add; nas_model_resize_ops[3] = nas_count.cmp;\n"
      << "  nas_count.mul = nas_count.shift = nas_count.add = nas_count.cmp = 0;\n#endif\n";
  auto buffer = [&](int t) -> std::string {
    if (t == 0) return m.resizes() ? "nas_resized" : "image";
    if (static_cast<size_t>(t) + 1 == m.tensors.size()) return "logits";
    return "nas_arena + " + std::to_string(m.tensors[static_cast<size_t>(t)].arena_offset / act_bytes);
  };
  for (size_t k = 0; k < m.steps.size(); ++k) {
    const IntStep& st = m.steps[k];
    s << "  nas_step" << k << "(" << buffer(st.input) << ", ";
    if (st.kind == StepKind::Residual) s << buffer(st.input2) << ", ";
    s << buffer(st.output) << ");\n  NAS_STEP_DONE(" << k << ");\n";
  }
  s << "  return 0;\n}\n";
  out.source = s.str();
  return out;
}

}  // namespace

}  // namespace nas::deploy
