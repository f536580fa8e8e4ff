/* A TFLite external-delegate plugin for tests/external_delegate.rs, written for tflite-rs.
 *
 * It implements the plugin ABI Python's `load_delegate` and Coral's libedgetpu use:
 *   TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t n,
 *                                                 void (*report_error)(const char*));
 *   void tflite_plugin_destroy_delegate(TfLiteDelegate*);
 * and takes every float32 node of one builtin op (option "op": "ADD" or "MUL"; "NONE" takes
 * nothing), computing out = a + b (or a * b) with b broadcast, plus option "bias" (default 0),
 * so a test can see that this kernel ran. Unknown options are an error.
 *
 * It calls no TFLite function (only the context's callbacks): a Rust executable links TFLite
 * statically and does not export its symbols to plugins it loads. */
#include <stdlib.h>
#include <string.h>

#include "tensorflow/lite/builtin_ops.h"
#include "tensorflow/lite/core/c/common.h"

typedef struct {
  int op;      /* builtin code taken, -1 for none */
  float bias;
} Options;

/* One taken node: its input and output tensors (read at init: the node table may only be
 * queried while the delegate is being applied). */
typedef struct {
  int a, b, out;
} Node;

typedef struct {
  int op;
  float bias;
  int count;
  Node nodes[];
} Kernel;

static void* kernel_init(TfLiteContext* ctx, const char* buffer, size_t length) {
  (void)length;
  const TfLiteDelegateParams* params = (const TfLiteDelegateParams*)buffer;
  const Options* o = (const Options*)params->delegate->data_;
  int count = params->nodes_to_replace->size;
  Kernel* k = (Kernel*)calloc(1, sizeof(Kernel) + sizeof(Node) * (size_t)count);
  if (!k) return NULL;
  k->op = o->op;
  k->bias = o->bias;
  for (int i = 0; i < count; ++i) {
    TfLiteNode* n;
    TfLiteRegistration* r;
    if (ctx->GetNodeAndRegistration(ctx, params->nodes_to_replace->data[i], &n, &r) !=
        kTfLiteOk) {
      free(k);
      return NULL;
    }
    k->nodes[i].a = n->inputs->data[0];
    k->nodes[i].b = n->inputs->data[1];
    k->nodes[i].out = n->outputs->data[0];
  }
  k->count = count;
  return k;
}

static void kernel_free(TfLiteContext* ctx, void* data) {
  (void)ctx;
  free(data);
}

static TfLiteStatus kernel_invoke(TfLiteContext* ctx, TfLiteNode* node) {
  Kernel* k = (Kernel*)node->user_data;
  if (!k) return kTfLiteError;
  for (int i = 0; i < k->count; ++i) {
    const TfLiteTensor* a = &ctx->tensors[k->nodes[i].a];
    const TfLiteTensor* b = &ctx->tensors[k->nodes[i].b];
    TfLiteTensor* out = &ctx->tensors[k->nodes[i].out];
    size_t na = a->bytes / sizeof(float), nb = b->bytes / sizeof(float);
    size_t no = out->bytes / sizeof(float);
    if (na == 0 || nb == 0 || !a->data.f || !b->data.f || !out->data.f) return kTfLiteError;
    for (size_t j = 0; j < no; ++j) {
      float x = a->data.f[j % na], y = b->data.f[j % nb];
      out->data.f[j] = (k->op == kTfLiteBuiltinAdd ? x + y : x * y) + k->bias;
    }
  }
  return kTfLiteOk;
}

static TfLiteStatus delegate_prepare(TfLiteContext* ctx, TfLiteDelegate* delegate) {
  const Options* o = (const Options*)delegate->data_;
  TfLiteIntArray* plan;
  if (ctx->GetExecutionPlan(ctx, &plan) != kTfLiteOk) return kTfLiteError;
  TfLiteIntArray* take =
      (TfLiteIntArray*)malloc(sizeof(TfLiteIntArray) + sizeof(int) * (size_t)plan->size);
  if (!take) return kTfLiteError;
  take->size = 0;
  for (int i = 0; i < plan->size; ++i) {
    TfLiteNode* n;
    TfLiteRegistration* r;
    if (ctx->GetNodeAndRegistration(ctx, plan->data[i], &n, &r) != kTfLiteOk) continue;
    if (r->builtin_code != o->op || n->inputs->size != 2) continue;
    if (ctx->tensors[n->inputs->data[0]].type != kTfLiteFloat32 ||
        ctx->tensors[n->inputs->data[1]].type != kTfLiteFloat32) {
      continue;
    }
    take->data[take->size++] = plan->data[i];
  }
  static TfLiteRegistration kernel = {0};
  kernel.init = kernel_init;
  kernel.free = kernel_free;
  kernel.invoke = kernel_invoke;
  kernel.builtin_code = kTfLiteBuiltinDelegate;
  kernel.custom_name = "TfliteRsTestDelegate";
  kernel.version = 1;
  TfLiteStatus s = kTfLiteOk;
  if (take->size > 0) {
    s = ctx->ReplaceNodeSubsetsWithDelegateKernels(ctx, kernel, take, delegate);
  }
  free(take);
  return s;
}

TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t n,
                                              void (*report_error)(const char*)) {
  Options* o = (Options*)calloc(1, sizeof(Options));
  TfLiteDelegate* d = (TfLiteDelegate*)calloc(1, sizeof(TfLiteDelegate));
  if (!o || !d) {
    free(o);
    free(d);
    return NULL;
  }
  o->op = kTfLiteBuiltinAdd;
  for (size_t i = 0; i < n; ++i) {
    if (strcmp(keys[i], "op") == 0) {
      if (strcmp(values[i], "ADD") == 0) {
        o->op = kTfLiteBuiltinAdd;
      } else if (strcmp(values[i], "MUL") == 0) {
        o->op = kTfLiteBuiltinMul;
      } else if (strcmp(values[i], "NONE") == 0) {
        o->op = -1;
      } else {
        if (report_error) report_error("test delegate: op must be ADD, MUL or NONE");
        free(o);
        free(d);
        return NULL;
      }
    } else if (strcmp(keys[i], "bias") == 0) {
      o->bias = (float)atof(values[i]);
    } else {
      if (report_error) report_error("test delegate: unknown option");
      free(o);
      free(d);
      return NULL;
    }
  }
  /* calloc'd: every other callback unset, as TfLiteDelegateCreate() would leave it. */
  d->data_ = o;
  d->Prepare = delegate_prepare;
  d->flags = kTfLiteDelegateFlagsNone;
  return d;
}

void tflite_plugin_destroy_delegate(TfLiteDelegate* d) {
  if (!d) return;
  free(d->data_);
  free(d);
}
