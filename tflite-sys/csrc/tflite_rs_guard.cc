// See tflite_rs_guard.h. Written for tflite-rs; not part of TFLite.
#include "tflite_rs_guard.h"

#include <exception>
#include <string>

namespace {

thread_local std::string last_exception;

// Runs `call`; on an exception records its text and returns `failure`.
template <typename T, typename F>
T Guard(T failure, F call) noexcept {
  last_exception.clear();
  try {
    return call();
  } catch (const std::exception& e) {
    try {
      last_exception = std::string("C++ exception inside TensorFlow Lite: ") + e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      last_exception = "unknown C++ exception inside TensorFlow Lite";
    } catch (...) {
    }
  }
  return failure;
}

}  // namespace

extern "C" {

const char* TfLiteRsLastException(void) { return last_exception.c_str(); }

TfLiteModel* TfLiteRsModelCreateWithErrorReporter(
    const void* model_data, size_t model_size,
    void (*reporter)(void* user_data, const char* format, va_list args), void* user_data) {
  return Guard<TfLiteModel*>(nullptr, [&] {
    return TfLiteModelCreateWithErrorReporter(model_data, model_size, reporter, user_data);
  });
}

TfLiteModel* TfLiteRsModelCreateFromFileWithErrorReporter(
    const char* model_path,
    void (*reporter)(void* user_data, const char* format, va_list args), void* user_data) {
  return Guard<TfLiteModel*>(nullptr, [&] {
    return TfLiteModelCreateFromFileWithErrorReporter(model_path, reporter, user_data);
  });
}

TfLiteInterpreter* TfLiteRsInterpreterCreate(const TfLiteModel* model,
                                             const TfLiteInterpreterOptions* options) {
  return Guard<TfLiteInterpreter*>(nullptr,
                                   [&] { return TfLiteInterpreterCreate(model, options); });
}

TfLiteStatus TfLiteRsInterpreterModifyGraphWithDelegate(const TfLiteInterpreter* interpreter,
                                                        TfLiteDelegate* delegate) {
  return Guard(kTfLiteError,
               [&] { return TfLiteInterpreterModifyGraphWithDelegate(interpreter, delegate); });
}

TfLiteStatus TfLiteRsInterpreterAllocateTensors(TfLiteInterpreter* interpreter) {
  return Guard(kTfLiteError, [&] { return TfLiteInterpreterAllocateTensors(interpreter); });
}

TfLiteStatus TfLiteRsInterpreterInvoke(TfLiteInterpreter* interpreter) {
  return Guard(kTfLiteError, [&] { return TfLiteInterpreterInvoke(interpreter); });
}

TfLiteStatus TfLiteRsInterpreterResizeInputTensor(TfLiteInterpreter* interpreter,
                                                  int32_t input_index, const int* input_dims,
                                                  int32_t input_dims_size) {
  return Guard(kTfLiteError, [&] {
    return TfLiteInterpreterResizeInputTensor(interpreter, input_index, input_dims,
                                              input_dims_size);
  });
}

TfLiteSignatureRunner* TfLiteRsInterpreterGetSignatureRunner(
    const TfLiteInterpreter* interpreter, const char* signature_key) {
  return Guard<TfLiteSignatureRunner*>(
      nullptr, [&] { return TfLiteInterpreterGetSignatureRunner(interpreter, signature_key); });
}

TfLiteStatus TfLiteRsSignatureRunnerResizeInputTensor(TfLiteSignatureRunner* runner,
                                                      const char* input_name,
                                                      const int* input_dims,
                                                      int32_t input_dims_size) {
  return Guard(kTfLiteError, [&] {
    return TfLiteSignatureRunnerResizeInputTensor(runner, input_name, input_dims,
                                                  input_dims_size);
  });
}

TfLiteStatus TfLiteRsSignatureRunnerAllocateTensors(TfLiteSignatureRunner* runner) {
  return Guard(kTfLiteError, [&] { return TfLiteSignatureRunnerAllocateTensors(runner); });
}

TfLiteStatus TfLiteRsSignatureRunnerInvoke(TfLiteSignatureRunner* runner) {
  return Guard(kTfLiteError, [&] { return TfLiteSignatureRunnerInvoke(runner); });
}

}  // extern "C"
