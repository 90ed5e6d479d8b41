#include "deploy/c_codegen.h"

#include <map>
#include <set>
#include <sstream>

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

/* Geometry of a convolution, all products computed at export. */
typedef struct {
  int h_in, w_in, c_in, h_out, w_out, c_out, k, stride, dw;
  int row_step;   /* w_in c_in: one input row */
  int orow_step;  /* stride row_step */
  int ocol_step;  /* stride c_in */
  int pad_rows;   /* padding row_step */
  int pad_cols;   /* padding c_in */
  int pad;
  int wtap;       /* weights per tap: c_in, or 1 for depthwise */
  int wrow;       /* k wtap */
} nas_geom;

/* Requantization of one step (int_model.h): v = bias + sum of +-(acc << d) (or acc m),
   y = (v + 2^(r-1)) >> r, clamped to [lo, hi]. */
typedef struct {
  const int8_t *codes;   /* [c_out][terms]: s (d + 1), 0 unused */
  const int32_t *mult;   /* [c_out] multiplier, or NULL */
  const int64_t *bias;   /* [c_out] */
  const int8_t *rshift;  /* [c_out] */
  int terms;
  int32_t lo, hi;
} nas_rq;

)";

// The tail of the requantization and the shift-add form (MF); the multiplier form is outside.
const char* kResidual = R"(static void nas_residual(const nas_act_t a[], const nas_act_t b[], nas_act_t out[], int n, int sa, int sb,
                         int32_t lo, int32_t hi) {
  int i;
  for (i = 0; i < n; ++i) {
    int64_t va = a[i], vb = b[i], v;
    if (sa > 0) va = NAS_SHR(NAS_ADD(va, (int64_t)1 << (sa - 1)), sa);
    if (sa < 0) va = NAS_SHL64(va, -sa);
    if (sb > 0) vb = NAS_SHR(NAS_ADD(vb, (int64_t)1 << (sb - 1)), sb);
    if (sb < 0) vb = NAS_SHL64(vb, -sb);
    v = NAS_ADD(va, vb);
    if (NAS_LT(v, lo)) v = lo;
    if (NAS_GT(v, hi)) v = hi;
    out[i] = (nas_act_t)v;
  }
}

)";

const char* kRequantMf = R"(static int32_t nas_requant_tail(int64_t v, int r, int32_t lo, int32_t hi) {
  if (r > 0) v = NAS_SHR(NAS_ADD(v, (int64_t)1 << (r - 1)), r);
  if (NAS_LT(v, lo)) v = lo;
  if (NAS_GT(v, hi)) v = hi;
  return (int32_t)v;
}

static int32_t nas_requant_mul(int64_t acc, const nas_rq rq, int o);

static int32_t nas_requant(int64_t acc, const nas_rq rq, int o, int code_off) {
  int64_t v = rq.bias[o];
  int t;
  if (rq.mult != NULL) return nas_requant_mul(acc, rq, o);
  for (t = 0; t < rq.terms; ++t) {
    const int c = rq.codes[code_off + t];
    if (c > 0) v = NAS_ADD(v, NAS_SHL64(acc, c - 1));
    if (c < 0) v = NAS_SUB(v, NAS_SHL64(acc, -c - 1));
  }
  return nas_requant_tail(v, rq.rshift[o], rq.lo, rq.hi);
}

static void nas_pool(const nas_act_t in[], nas_act_t out[], int positions_c, int c_count, const nas_rq rq) {
  int c, p, code_off = 0;
  for (c = 0; c < c_count; ++c, code_off += rq.terms) {
    int64_t acc = 0;
    for (p = c; p < positions_c; p += c_count) acc = NAS_ADD(acc, (int64_t)in[p]);
    out[c] = (nas_act_t)nas_requant(acc, rq, c, code_off);
  }
}

)";

// INT32_MIN is not a literal in C (2147483648 does not fit int).
std::string c_int32_literal(int64_t v) { return v == -2147483648LL ? "(-2147483647 - 1)" : std::to_string(v); }

std::string c_int_type(int bytes) { return bytes == 1 ? "int8_t" : bytes == 2 ? "int16_t" : bytes == 4 ? "int32_t" : "int64_t"; }

struct KernelKey {
  OpKind op;
  bool image_in, logits_out;
  int acc_bits, weight_bytes;
  bool operator<(const KernelKey& o) const {
    return std::tie(op, image_in, logits_out, acc_bits, weight_bytes) <
           std::tie(o.op, o.image_in, o.logits_out, o.acc_bits, o.weight_bytes);
  }
  std::string name() const {
    std::string n = std::string("nas_conv_") + op_kind_name(op) + (image_in ? "_u8" : "_act") + (logits_out ? "_i32" : "_act") +
                    "_a" + std::to_string(acc_bits) + "_w" + std::to_string(weight_bytes);
    return n;
  }
};

std::string kernel_text(const KernelKey& k) {
  const std::string acc = k.acc_bits == 32 ? "int32_t" : "int64_t";
  const std::string shl = k.acc_bits == 32 ? "NAS_SHL32" : "NAS_SHL64";
  const bool add = k.op == OpKind::Add;
  std::ostringstream s;
  s << "static void " << k.name() << "(const " << (k.image_in ? "uint8_t" : "nas_act_t") << " in[], "
    << (k.logits_out ? "int32_t" : "nas_act_t") << " out[], const " << c_int_type(k.weight_bytes)
    << " w[], const nas_rq rq, const nas_geom g) {\n"
    << "  int oy, ox, o, ky, kx, i, iy0, ix0, ro0, co0, oi = 0;\n"
    << "  for (oy = 0, iy0 = -g.pad, ro0 = -g.pad_rows; oy < g.h_out; ++oy, iy0 += g.stride, ro0 += g.orow_step) {\n"
    << "    for (ox = 0, ix0 = -g.pad, co0 = -g.pad_cols; ox < g.w_out; ++ox, ix0 += g.stride, co0 += g.ocol_step) {\n"
    << "      int wi = 0, code_off = 0;\n"
    << "      for (o = 0; o < g.c_out; ++o, code_off += rq.terms) {\n"
    << "        " << acc << " acc = 0;\n"
    << "        const int chan0 = g.dw ? o : 0;\n"
    << "        int iy, ro;\n"
    << "        for (ky = 0, iy = iy0, ro = ro0; ky < g.k; ++ky, ++iy, ro += g.row_step) {\n"
    << "          int ix, co;\n";
  if (add) {
    s << "          const int row_in = iy >= 0 && iy < g.h_in;\n";
  } else {
    s << "          if (iy < 0 || iy >= g.h_in) { wi += g.wrow; continue; }\n";
  }
  s << "          for (kx = 0, ix = ix0, co = co0; kx < g.k; ++kx, ++ix, co += g.c_in) {\n";
  if (add) {
    s << "            const int tap_in = row_in && ix >= 0 && ix < g.w_in;\n";
  } else {
    s << "            if (ix < 0 || ix >= g.w_in) { wi += g.wtap; continue; }\n";
  }
  s << "            for (i = 0; i < g.wtap; ++i, ++wi) {\n";
  if (add) {
    s << "              const " << acc << " x = tap_in ? (" << acc << ")in[ro + co + chan0 + i] : 0;\n"
      << "              const " << acc << " d = NAS_SUB(x, (" << acc << ")w[wi]);\n"
      << "              acc = NAS_SUB(acc, NAS_ABS(d));\n";
  } else if (k.image_in) {
    s << "              const " << acc << " x = NAS_SUB((" << acc << ")in[ro + co + chan0 + i], (" << acc << ")nas_zero_point[chan0 + i]);\n"
      << "              acc = NAS_ADD(acc, NAS_MUL(x, (" << acc << ")w[wi]));\n";
  } else if (k.op == OpKind::Mult) {
    s << "              const " << acc << " x = in[ro + co + chan0 + i];\n"
      << "              acc = NAS_ADD(acc, NAS_MUL(x, (" << acc << ")w[wi]));\n";
  } else {
    s << "              const " << acc << " x = in[ro + co + chan0 + i];\n"
      << "              const int c = w[wi];\n"
      << "              if (c > 0) acc = NAS_ADD(acc, " << shl << "(x, c - 1));\n"
      << "              if (c < 0) acc = NAS_SUB(acc, " << shl << "(x, -c - 1));\n";
  }
  s << "            }\n          }\n        }\n"
    << "        out[oi++] = (" << (k.logits_out ? "int32_t" : "nas_act_t") << ")nas_requant(acc, rq, o, code_off);\n"
    << "      }\n    }\n  }\n}\n\n";
  return s.str();
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

}  // namespace

GeneratedC generate_c(const IntModel& m, const std::string& header_name) {
  validate_int_model(m, "C export");
  const int64_t act_bytes = m.act_bytes();
  GeneratedC out;
  std::ostringstream h;
  h << "/* Generated by nas_deploy: an integer, multiplication-free network (" << m.bits << "-bit activations). */\n"
    << "#ifndef NAS_MODEL_H\n#define NAS_MODEL_H\n#include <stdint.h>\n\n"
    << "#define NAS_MODEL_IMAGE_H " << m.image_h << "\n#define NAS_MODEL_IMAGE_W " << m.image_w
    << "\n#define NAS_MODEL_IMAGE_C " << m.image_c << "\n#define NAS_MODEL_NUM_CLASSES " << m.num_classes
    << "\n#define NAS_MODEL_LOGIT_FRAC_BITS " << m.logit_frac_bits << "\n#define NAS_MODEL_ARENA_BYTES " << m.arena_bytes
    << "\n#define NAS_MODEL_STEPS " << m.steps.size() << "\n\n"
    << "/* image: H x W uint8 pixels (one channel) or H x W x C interleaved, as the data set stores them.\n"
    << "   logits: NAS_MODEL_NUM_CLASSES int32, logit k = logits[k] * 2^-NAS_MODEL_LOGIT_FRAC_BITS.\n"
    << "   Returns 0. Not reentrant: the activations live in one static arena. */\n"
    << "int nas_model_infer(const uint8_t *image, int32_t *logits);\n\n"
    << "#ifdef NAS_COUNT_OPS\n/* Counting build: operations of the last call, per step: {mul, shift, add, cmp}. */\n"
    << "extern unsigned long long nas_model_step_ops[NAS_MODEL_STEPS][4];\nextern const char *const nas_model_step_names[NAS_MODEL_STEPS];\n#endif\n"
    << "#endif\n";
  out.header = h.str();

  std::ostringstream s;
  s << "/* Generated by nas_deploy. See " << header_name << ". C99, no malloc, no floating point. */\n"
    << "#include \"" << header_name << "\"\n" << kPrelude
    << "typedef " << (m.bits == 8 ? "int8_t" : "int16_t") << " nas_act_t;\n\n";
  emit_array(s, "int32_t", "nas_zero_point", m.input_zero_point);
  s << "static nas_act_t nas_arena[" << std::max<int64_t>(m.arena_bytes / act_bytes, 1) << "];\n\n";
  std::set<KernelKey> kernels;
  for (size_t k = 0; k < m.steps.size(); ++k) {
    const IntStep& st = m.steps[k];
    const std::string p = "nas_s" + std::to_string(k);
    s << "/* step " << k << ": " << st.name << " (" << step_kind_name(st.kind);
    if (st.kind == StepKind::Conv) s << ", " << op_kind_name(st.op) << ", int" << st.acc_bits << " accumulator";
    s << ") */\n";
    if (st.kind == StepKind::Conv) {
      const int wb = weight_element_bytes(st);
      emit_array(s, c_int_type(wb), p + "_w", st.weight);
      kernels.insert({st.op, st.input == 0, k + 1 == m.steps.size(), st.acc_bits, wb});
    }
    if (st.kind != StepKind::Residual) {
      if (st.multiplier_mode)
        emit_array(s, "int32_t", p + "_mult", st.multiplier);
      else
        emit_array(s, "int8_t", p + "_codes", st.term_code);
      emit_array(s, "int64_t", p + "_bias", st.bias);
      emit_array(s, "int8_t", p + "_rshift", st.rshift);
    }
  }
  s << "\n/* ---- MF kernels begin: no multiplication below, up to 'MF kernels end' ---- */\n" << kRequantMf;
  for (const IntStep& st : m.steps)
    if (st.kind == StepKind::Residual) {
      s << kResidual;
      break;
    }
  for (const KernelKey& k : kernels)
    if (k.op != OpKind::Mult) s << kernel_text(k);
  s << "/* ---- MF kernels end ---- */\n\n";
  s << "static int32_t nas_requant_mul(int64_t acc, const nas_rq rq, int o) {\n"
    << "  const int64_t v = NAS_ADD((int64_t)rq.bias[o], NAS_MUL(acc, (int64_t)rq.mult[o]));\n"
    << "  return nas_requant_tail(v, rq.rshift[o], rq.lo, rq.hi);\n}\n\n";
  for (const KernelKey& k : kernels)
    if (k.op == OpKind::Mult) s << kernel_text(k);

  s << "#ifdef NAS_COUNT_OPS\nunsigned long long nas_model_step_ops[NAS_MODEL_STEPS][4];\n"
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
  auto buffer = [&](int t) -> std::string {
    if (t == 0) return "image";
    if (static_cast<size_t>(t) + 1 == m.tensors.size()) return "logits";
    return "nas_arena + " + std::to_string(m.tensors[static_cast<size_t>(t)].arena_offset / act_bytes);
  };
  for (size_t k = 0; k < m.steps.size(); ++k) {
    const IntStep& st = m.steps[k];
    const std::string p = "nas_s" + std::to_string(k);
    s << "  {\n";
    if (st.kind != StepKind::Residual)
      s << "    const nas_rq rq = {" << (st.multiplier_mode ? "NULL" : p + "_codes") << ", "
        << (st.multiplier_mode ? p + "_mult" : "NULL") << ", " << p << "_bias, " << p << "_rshift, " << st.terms << ", "
        << c_int32_literal(st.clamp_lo) << ", " << st.clamp_hi << "};\n";
    if (st.kind == StepKind::Conv) {
      const IntTensor& ti = m.tensors[static_cast<size_t>(st.input)];
      const IntTensor& to = m.tensors[static_cast<size_t>(st.output)];
      const int64_t row_step = ti.w * ti.c, wtap = st.depthwise ? 1 : st.c_in;
      s << "    const nas_geom g = {" << ti.h << ", " << ti.w << ", " << ti.c << ", " << to.h << ", " << to.w << ", " << to.c
        << ", " << st.kernel << ", " << st.stride << ", " << (st.depthwise ? 1 : 0) << ", " << row_step << ", "
        << st.stride * row_step << ", " << st.stride * ti.c << ", " << st.padding * row_step << ", " << st.padding * ti.c
        << ", " << st.padding << ", " << wtap << ", " << st.kernel * wtap << "};\n";
      const KernelKey key{st.op, st.input == 0, k + 1 == m.steps.size(), st.acc_bits, weight_element_bytes(st)};
      s << "    " << key.name() << "(" << buffer(st.input) << ", " << buffer(st.output) << ", " << p << "_w, rq, g);\n";
    } else if (st.kind == StepKind::Pool) {
      const IntTensor& ti = m.tensors[static_cast<size_t>(st.input)];
      s << "    nas_pool(" << buffer(st.input) << ", " << buffer(st.output) << ", " << ti.elements() << ", " << ti.c << ", rq);\n";
    } else {
      s << "    nas_residual(" << buffer(st.input) << ", " << buffer(st.input2) << ", " << buffer(st.output) << ", "
        << m.tensors[static_cast<size_t>(st.output)].elements() << ", " << st.shift_a << ", " << st.shift_b << ", "
        << st.clamp_lo << ", " << st.clamp_hi << ");\n";
    }
    s << "    NAS_STEP_DONE(" << k << ");\n  }\n";
  }
  s << "  return 0;\n}\n";
  out.source = s.str();
  return out;
}

}  // namespace nas::deploy
