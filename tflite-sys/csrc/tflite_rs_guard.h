/* C++ exceptions must not reach Rust. TFLite's C API is C++ inside: on a hostile model it can
 * throw (std::bad_alloc for a huge declared shape, std::length_error, ...), and an exception
 * crossing into Rust aborts the process. Each TfLiteRsX below calls the C API function X and
 * turns an exception into that function's failure value (NULL or kTfLiteError), keeping the
 * exception's text for TfLiteRsLastException. Written for tflite-rs; not part of TFLite. */
#ifndef TFLITE_RS_GUARD_H_
#define TFLITE_RS_GUARD_H_

#include "tensorflow/lite/core/c/c_api.h"
#include "tensorflow/lite/core/c/c_api_experimental.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The text of the exception the last guarded call on this thread caught, or "" if it caught
 * none. Valid until the next guarded call on this thread. */
const char* TfLiteRsLastException(void);

TfLiteModel* TfLiteRsModelCreateWithErrorReporter(
    const void* model_data, size_t model_size,
    void (*reporter)(void* user_data, const char* format, va_list args), void* user_data);
TfLiteModel* TfLiteRsModelCreateFromFileWithErrorReporter(
    const char* model_path,
    void (*reporter)(void* user_data, const char* format, va_list args), void* user_data);
TfLiteInterpreter* TfLiteRsInterpreterCreate(const TfLiteModel* model,
                                             const TfLiteInterpreterOptions* options);
TfLiteStatus TfLiteRsInterpreterModifyGraphWithDelegate(const TfLiteInterpreter* interpreter,
                                                        TfLiteDelegate* delegate);
TfLiteStatus TfLiteRsInterpreterAllocateTensors(TfLiteInterpreter* interpreter);
TfLiteStatus TfLiteRsInterpreterInvoke(TfLiteInterpreter* interpreter);
TfLiteStatus TfLiteRsInterpreterResizeInputTensor(TfLiteInterpreter* interpreter,
                                                  int32_t input_index, const int* input_dims,
                                                  int32_t input_dims_size);
TfLiteSignatureRunner* TfLiteRsInterpreterGetSignatureRunner(
    const TfLiteInterpreter* interpreter, const char* signature_key);
TfLiteStatus TfLiteRsSignatureRunnerResizeInputTensor(TfLiteSignatureRunner* runner,
                                                      const char* input_name,
                                                      const int* input_dims,
                                                      int32_t input_dims_size);
TfLiteStatus TfLiteRsSignatureRunnerAllocateTensors(TfLiteSignatureRunner* runner);
TfLiteStatus TfLiteRsSignatureRunnerInvoke(TfLiteSignatureRunner* runner);

/* Defined by our patch vendor/patches/tensorflow/0027-log-lines-go-to-a-callback.patch in
 * TFLite's minimal_logging_default.cc. Routes TFLite's log lines (severity: TFLITE_LOG_VERBOSE 0,
 * INFO 1, WARNING 2, ERROR 3, SILENT 4) to `callback` instead of stderr (NULL: stderr again),
 * and sets the least severity logged at all. */
void TfLiteRsSetLogCallback(void (*callback)(int severity, const char* message));
void TfLiteRsSetMinimumLogSeverity(int severity);

#ifdef __cplusplus
}
#endif
#endif
