// The single verifier interface: dispatch by kind, and a batch in parallel.
#include "sdzero/tasks/verifier.hpp"

#include <atomic>
#include <exception>
#include <thread>

#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/external.hpp"

namespace sdz::tasks {

Verifier::Verifier(VerifierOptions opt) : opt_(std::move(opt)) {
  if (!opt_.command.empty()) external_ = std::make_unique<ExternalVerifier>(opt_.command, opt_.command_timeout_s);
}

Verifier::~Verifier() = default;

Verdict Verifier::verify_with(const CodeOptions& code, const std::string& kind, const std::string& response,
                              const Target& target) const {
  if (external_) return external_->verify(kind, response, target);
  if (kind == "math") return verify_math(response, target.answer, opt_.math);
  if (kind == "code") return verify_code(response, target, code);
  if (is_builtin_task(kind)) return verify_builtin(kind, response, target.answer);
  return fail("unknown task kind '" + kind.substr(0, 40) + "' (math, code, div, cd, mul, arith, countdown)");
}

Verdict Verifier::verify(const std::string& kind, const std::string& response, const Target& target) const {
  return verify_with(opt_.code, kind, response, target);
}

std::vector<Verdict> Verifier::verify_batch(const std::vector<VerifyItem>& items) const {
  std::vector<Verdict> out(items.size());
  size_t threads = std::max<size_t>(1, std::min<size_t>(size_t(std::max(1, opt_.workers)), items.size()));
  // Items run in parallel, so each program's tests run one at a time: `workers` processes in all.
  CodeOptions code = opt_.code;
  if (threads > 1) code.workers = 1;
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> stop{false};
  auto worker = [&] {
    for (size_t i; !stop && (i = next.fetch_add(1)) < items.size();) {
      try {
        out[i] = verify_with(code, items[i].kind, items[i].response, items[i].target);
      } catch (...) {
        if (!stop.exchange(true)) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace sdz::tasks
