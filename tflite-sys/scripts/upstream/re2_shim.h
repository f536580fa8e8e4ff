// Stand-in for re2/re2.h in the upstream unit tests (`bash .ci/upstream`): TFLite's
// kernels/acceleration_test_util_internal.h matches test names against the NNAPI acceleration
// allow-list with RE2::FullMatch, the only RE2 call the tests make; RE2 is not pinned, and on
// Linux that list is only read, never decisive (NNAPI is absent). std::regex (ECMAScript) reads
// the list's patterns, which use only `.*`, `(a|b)`, `[0-9]` and escapes.
#ifndef TFLITE_SYS_UPSTREAM_RE2_SHIM_H_
#define TFLITE_SYS_UPSTREAM_RE2_SHIM_H_

#include <regex>
#include <string>

class RE2 {
 public:
  RE2(const std::string& pattern) : re_(pattern) {}  // NOLINT: implicit, as RE2's own
  static bool FullMatch(const std::string& text, const RE2& re) {
    return std::regex_match(text, re.re_);
  }
  static bool PartialMatch(const std::string& text, const RE2& re) {
    return std::regex_search(text, re.re_);
  }
  bool ok() const { return true; }

 private:
  std::regex re_;
};

#endif  // TFLITE_SYS_UPSTREAM_RE2_SHIM_H_
