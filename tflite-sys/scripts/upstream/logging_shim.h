// Stand-in for tensorflow/tsl/platform/logging.h and tensorflow/core/platform/logging.h in the
// upstream unit tests (`bash .ci/upstream`): TFLite's test helpers (kernels/test_util.h,
// testing/util.h, tools/versioning/op_version.cc) use only LOG(severity) and CHECK*, and the
// real header pulls in TensorFlow's platform layer, which the pinned build does not compile.
// A failed CHECK or LOG(FATAL) prints its message and aborts, as the real one does.
#ifndef TFLITE_SYS_UPSTREAM_LOGGING_SHIM_H_
#define TFLITE_SYS_UPSTREAM_LOGGING_SHIM_H_

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <type_traits>
#include <utility>

namespace tflite_sys_upstream {

class LogMessage {
 public:
  LogMessage(const char* file, int line, const char* severity, bool fatal)
      : fatal_(fatal) {
    stream_ << severity << " " << file << ":" << line << "] ";
  }
  ~LogMessage() {
    std::cerr << stream_.str() << std::endl;
    if (fatal_) std::abort();
  }
  std::ostream& stream() { return stream_; }

 private:
  bool fatal_;
  std::ostringstream stream_;
};

template <typename T, typename = void>
struct Printable : std::false_type {};
template <typename T>
struct Printable<T, std::void_t<decltype(std::declval<std::ostream&>()
                                         << std::declval<const T&>())>>
    : std::true_type {};

// A CHECK_op operand printed as TensorFlow's CHECK_op prints it; enums as numbers.
template <typename T>
struct Value {
  const T& v;
};
template <typename T>
Value<T> V(const T& v) {
  return {v};
}
template <typename T>
std::ostream& operator<<(std::ostream& os, Value<T> x) {
  if constexpr (std::is_enum_v<T>) {
    os << static_cast<long long>(x.v);
  } else if constexpr (Printable<T>::value) {
    os << x.v;
  } else {
    os << "?";
  }
  return os;
}

// Turns `cond ? (void)0 : Voidify() & stream` into a statement of type void.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace tflite_sys_upstream

#define TFSU_LOG_INFO(f, l) ::tflite_sys_upstream::LogMessage(f, l, "I", false)
#define TFSU_LOG_WARNING(f, l) ::tflite_sys_upstream::LogMessage(f, l, "W", false)
#define TFSU_LOG_ERROR(f, l) ::tflite_sys_upstream::LogMessage(f, l, "E", false)
#define TFSU_LOG_FATAL(f, l) ::tflite_sys_upstream::LogMessage(f, l, "F", true)
#define LOG(severity) TFSU_LOG_##severity(__FILE__, __LINE__).stream()
#define VLOG(level) \
  true ? (void)0 : ::tflite_sys_upstream::Voidify() & LOG(INFO)
#define VLOG_IS_ON(level) false
#define CHECK(cond)                                                   \
  (cond) ? (void)0                                                    \
         : ::tflite_sys_upstream::Voidify() &                         \
               TFSU_LOG_FATAL(__FILE__, __LINE__).stream()            \
                   << "Check failed: " #cond " "
// Messages as TensorFlow's: "Check failed: f_min <= 0 (1 vs. 0)" (death tests match them).
// The operands are evaluated again, only when the check fails, to print them.
#define TFSU_CHECK_OP(a, op, b)                                      \
  ((a)op(b)) ? (void)0                                               \
             : ::tflite_sys_upstream::Voidify() &                    \
                   TFSU_LOG_FATAL(__FILE__, __LINE__).stream()       \
                       << "Check failed: " #a " " #op " " #b " ("    \
                       << ::tflite_sys_upstream::V(a) << " vs. "     \
                       << ::tflite_sys_upstream::V(b) << ") "
#define CHECK_EQ(a, b) TFSU_CHECK_OP(a, ==, b)
#define CHECK_NE(a, b) TFSU_CHECK_OP(a, !=, b)
#define CHECK_LE(a, b) TFSU_CHECK_OP(a, <=, b)
#define CHECK_LT(a, b) TFSU_CHECK_OP(a, <, b)
#define CHECK_GE(a, b) TFSU_CHECK_OP(a, >=, b)
#define CHECK_GT(a, b) TFSU_CHECK_OP(a, >, b)
#define CHECK_NOTNULL(p) (p)
#define DCHECK(cond) CHECK(true || (cond))
#define DCHECK_EQ(a, b) DCHECK((a) == (b))
#define DCHECK_NE(a, b) DCHECK((a) != (b))
#define DCHECK_LE(a, b) DCHECK((a) <= (b))
#define DCHECK_LT(a, b) DCHECK((a) < (b))
#define DCHECK_GE(a, b) DCHECK((a) >= (b))
#define DCHECK_GT(a, b) DCHECK((a) > (b))

#endif  // TFLITE_SYS_UPSTREAM_LOGGING_SHIM_H_
