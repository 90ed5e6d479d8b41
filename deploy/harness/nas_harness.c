/* Host harness of a generated model.c: runs nas_model_infer over an IDX image file (uncompressed
   idx3-ubyte) or a CIFAR binary file (label byte + 3072 planar bytes per record; converted to
   H x W x C interleaved) and prints one line of logits per image.
     nas_harness FILE N            logits of the first N images
     nas_harness FILE N --bench R  R timed passes over N images: images/s of each pass
     nas_harness FILE 1 --counts   (built with -DNAS_COUNT_OPS) per-step operation counts
   Compile: cc -std=c99 -O2 -I DIR nas_harness.c DIR/model.c -o nas_harness */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define IMAGE_BYTES (NAS_MODEL_IMAGE_H * NAS_MODEL_IMAGE_W * NAS_MODEL_IMAGE_C)

static unsigned long be32(const unsigned char *p) {
  return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

/* Reads up to n images into out (n IMAGE_BYTES bytes); returns how many were read, -1 on error. */
static long read_images(const char *path, long n, unsigned char *out) {
  unsigned char head[16];
  long i = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  if (fread(head, 1, 16, f) == 16 && be32(head) == 0x803UL) {
    if (be32(head + 8) != NAS_MODEL_IMAGE_H || be32(head + 12) != NAS_MODEL_IMAGE_W || NAS_MODEL_IMAGE_C != 1) {
      fclose(f);
      return -1;
    }
    for (; i < n && fread(out + (size_t)i * IMAGE_BYTES, 1, IMAGE_BYTES, f) == IMAGE_BYTES; ++i) {}
  } else {
    unsigned char rec[1 + IMAGE_BYTES];
    long p, c;
    rewind(f);
    for (; i < n && fread(rec, 1, sizeof rec, f) == sizeof rec; ++i)
      for (c = 0; c < NAS_MODEL_IMAGE_C; ++c)
        for (p = 0; p < NAS_MODEL_IMAGE_H * NAS_MODEL_IMAGE_W; ++p)
          out[(size_t)i * IMAGE_BYTES + (size_t)p * NAS_MODEL_IMAGE_C + c] = rec[1 + c * NAS_MODEL_IMAGE_H * NAS_MODEL_IMAGE_W + p];
  }
  fclose(f);
  return i;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  long n, got, i, k;
  unsigned char *images;
  int32_t logits[NAS_MODEL_NUM_CLASSES];
  if (argc < 3) {
    fprintf(stderr, "usage: nas_harness FILE N [--bench R | --counts]\n");
    return 2;
  }
  n = atol(argv[2]);
  if (n < 1) n = 1;
  images = (unsigned char *)malloc((size_t)n * IMAGE_BYTES);
  if (!images) return 2;
  got = read_images(argv[1], n, images);
  if (got < 1) {
    fprintf(stderr, "nas_harness: error: %s: no images of %dx%dx%d\n", argv[1], NAS_MODEL_IMAGE_H, NAS_MODEL_IMAGE_W, NAS_MODEL_IMAGE_C);
    return 1;
  }
  if (argc >= 5 && strcmp(argv[3], "--bench") == 0) {
    long r, passes = atol(argv[4]);
    volatile int32_t sink = 0;
    for (r = 0; r < passes; ++r) {
      const double t0 = now_s();
      for (i = 0; i < got; ++i) {
        nas_model_infer(images + (size_t)i * IMAGE_BYTES, logits);
        sink += logits[0];
      }
      printf("images_per_s %.3f\n", (double)got / (now_s() - t0));
    }
    fprintf(stderr, "checksum %ld\n", (long)sink);
    free(images);
    return 0;
  }
#ifdef NAS_COUNT_OPS
  if (argc >= 4 && strcmp(argv[3], "--counts") == 0) {
    nas_model_infer(images, logits);
    if (NAS_MODEL_RESIZES)
      printf("input.resize %llu %llu %llu %llu\n", nas_model_resize_ops[0], nas_model_resize_ops[1], nas_model_resize_ops[2],
             nas_model_resize_ops[3]);
    for (k = 0; k < NAS_MODEL_STEPS; ++k)
      printf("%s %llu %llu %llu %llu\n", nas_model_step_names[k], nas_model_step_ops[k][0], nas_model_step_ops[k][1],
             nas_model_step_ops[k][2], nas_model_step_ops[k][3]);
    free(images);
    return 0;
  }
#endif
  for (i = 0; i < got; ++i) {
    if (nas_model_infer(images + (size_t)i * IMAGE_BYTES, logits) != 0) return 1;
    for (k = 0; k < NAS_MODEL_NUM_CLASSES; ++k) printf(k ? " %ld" : "%ld", (long)logits[k]);
    printf("\n");
  }
  free(images);
  return 0;
}
