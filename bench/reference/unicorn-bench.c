/*
 * The reference yardstick, measured in the same benchmark run: Unicorn 2 (C API) on the code NMI
 * Lab's benchmark runs, so that a slow spell of the shared host shows in both figures.
 *
 *   unicorn-bench loop CODE.bin ITERATIONS REPEATS HOOK   (HOOK 1: a per-instruction code hook)
 *   unicorn-bench trial CODE.bin TRIALS REPEATS
 *
 * CODE.bin is flat code assembled by GNU as for address CODE_BASE. loop runs it from its first
 * byte with RCX = ITERATIONS until the address of its last byte (a hlt). trial is
 * the reference trial: restore a saved context and a 4 KiB stack, then run
 * 25 instructions. Prints {"value": median per second, "repeats": N} on stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

#define CODE_BASE 0x400000ull
#define STACK_BASE 0x800000ull
#define STACK_SIZE 0x1000ull

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(uc_err e, const char *what) {
  if (e != UC_ERR_OK) {
    fprintf(stderr, "unicorn-bench: %s: %s\n", what, uc_strerror(e));
    exit(1);
  }
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *xs, int n) {
  qsort(xs, (size_t)n, sizeof *xs, compare);
  return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

static uint64_t hooked;
static void on_code(uc_engine *uc, uint64_t address, uint32_t size, void *data) {
  (void)uc; (void)address; (void)size; (void)data;
  hooked++;
}

static uc_engine *machine(const uint8_t *code, size_t length) {
  uc_engine *uc;
  check(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open");
  size_t mapped = (length + 0xfff) & ~(size_t)0xfff;
  check(uc_mem_map(uc, CODE_BASE, mapped, UC_PROT_ALL), "map code");
  check(uc_mem_write(uc, CODE_BASE, code, length), "write code");
  check(uc_mem_map(uc, STACK_BASE, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE), "map stack");
  uint64_t rsp = STACK_BASE + STACK_SIZE - 0x100;
  check(uc_reg_write(uc, UC_X86_REG_RSP, &rsp), "write rsp");
  return uc;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: unicorn-bench loop|trial CODE.bin COUNT REPEATS [HOOK]\n");
    return 2;
  }
  const char *mode = argv[1];
  long count = atol(argv[3]);
  int repeats = atoi(argv[4]);
  int hook = argc > 5 && atoi(argv[5]) != 0;
  FILE *f = fopen(argv[2], "rb");
  if (!f) {
    perror(argv[2]);
    return 2;
  }
  static uint8_t code[65536];
  size_t length = fread(code, 1, sizeof code, f);
  fclose(f);
  if (length == 0 || repeats < 1 || repeats > 64 || count < 1) {
    fprintf(stderr, "unicorn-bench: bad arguments\n");
    return 2;
  }
  double rates[64];
  uc_engine *uc = machine(code, length);
  if (strcmp(mode, "loop") == 0) {
    uc_hook h;
    if (hook) check(uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code, NULL, 1, 0), "hook");
    /* Repeat 0 warms the translation cache up and is not counted, as in bench/run.ts. */
    for (int r = 0; r <= repeats; r++) {
      uint64_t rcx = (uint64_t)count, rsp = STACK_BASE + STACK_SIZE - 0x100, zero = 0;
      check(uc_reg_write(uc, UC_X86_REG_RCX, &rcx), "write rcx");
      check(uc_reg_write(uc, UC_X86_REG_RAX, &zero), "write rax");
      check(uc_reg_write(uc, UC_X86_REG_RSP, &rsp), "write rsp");
      double t = now();
      check(uc_emu_start(uc, CODE_BASE, CODE_BASE + length - 1, 0, 0), "run loop");
      double s = now() - t;
      uint64_t rbx;
      check(uc_reg_read(uc, UC_X86_REG_RBX, &rbx), "read rbx");
      if (rbx != (uint64_t)count - 1) {
        fprintf(stderr, "unicorn-bench: the loop computed a wrong result\n");
        return 1;
      }
      /* 2 set-up instructions, 10 per iteration (the taken jb falls through to its target). */
      if (r > 0) rates[r - 1] = (2.0 + 10.0 * (double)count) / s;
    }
  } else if (strcmp(mode, "trial") == 0) {
    uc_context *ctx;
    uint8_t stack[STACK_SIZE];
    check(uc_context_alloc(uc, &ctx), "context alloc");
    check(uc_context_save(uc, ctx), "context save");
    check(uc_mem_read(uc, STACK_BASE, stack, STACK_SIZE), "read stack");
    for (int r = 0; r <= repeats; r++) {
      double t = now();
      for (long i = 0; i < count; i++) {
        check(uc_context_restore(uc, ctx), "context restore");
        check(uc_mem_write(uc, STACK_BASE, stack, STACK_SIZE), "restore stack");
        check(uc_emu_start(uc, CODE_BASE, 0, 0, 25), "run trial");
      }
      double s = now() - t;
      if (r > 0) rates[r - 1] = (double)count / s;
    }
    uc_context_free(ctx);
  } else {
    fprintf(stderr, "unicorn-bench: unknown mode %s\n", mode);
    return 2;
  }
  uc_close(uc);
  printf("{\"value\": %.0f, \"repeats\": %d}\n", median(rates, repeats), repeats);
  return 0;
}
