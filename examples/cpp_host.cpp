// A C++ host: libovica's C API from C++11, with RAII handles and exceptions.
//
// The public header is plain C with extern "C" guards, so C++ includes it
// as it is. Each handle type gets a std::unique_ptr with the matching _free
// function as its deleter (so nothing leaks when an exception unwinds), and
// every status goes through check(), which throws an exception carrying the
// library's message. Data live in std::vector<double>, row-major as the C
// API wants them.
//
//   cpp_host [--quick]
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ovica.h>

namespace {

// An error status of the library, with its code and message.
class ovica_error : public std::runtime_error {
public:
    ovica_error(int status, const std::string &what)
        : std::runtime_error(what + ": " + ovica_strerror(status) + ": " + ovica_error_message()),
          status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

int check(int status, const char *what)
{
    if (status < 0) throw ovica_error(status, what);
    return status;
}

template <typename T, void (*Free)(T *)>
struct deleter {
    void operator()(T *p) const { Free(p); }
};
typedef std::unique_ptr<ovica_rng, deleter<ovica_rng, ovica_rng_free> > rng_ptr;
typedef std::unique_ptr<ovica_prior, deleter<ovica_prior, ovica_prior_free> > prior_ptr;
typedef std::unique_ptr<ovica_model, deleter<ovica_model, ovica_model_free> > model_ptr;
typedef std::unique_ptr<ovica_solver, deleter<ovica_solver, ovica_solver_free> > solver_ptr;
typedef std::unique_ptr<ovica_trainer, deleter<ovica_trainer, ovica_trainer_free> > trainer_ptr;

// A learned dictionary: basis and the model it came from.
class dictionary {
public:
    dictionary(size_t m, size_t n, double sigma) : m_(m), n_(n)
    {
        ovica_prior *p = NULL;
        check(ovica_prior_exponential_new(&p, 1.0), "prior");
        prior_.reset(p);
        ovica_model *md = NULL;
        check(ovica_model_new(&md, m, n, prior_.get(), sigma), "model");
        model_.reset(md);
    }

    // Trains for `steps` steps on all of X with the trainer's defaults.
    void fit(const std::vector<double> &X, size_t steps, uint64_t seed)
    {
        size_t N = X.size() / m_;
        ovica_trainer *t = NULL;
        check(ovica_trainer_new(&t, model_.get(), ovica_rule_auto, seed), "trainer");
        trainer_ptr trainer(t);
        check(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, double(steps)), "steps");
        check(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X.data(), N, m_), "init");
        for (size_t k = 0; k < steps; k++) {
            ovica_step_stats s = OVICA_STEP_STATS_INIT;
            check(ovica_trainer_step(t, X.data(), N, m_, &s), "step");
            if ((k + 1) % (steps / 4) == 0)
                std::printf("step %zu: objective %.4f, lr %.3f\n", k + 1, s.objective, s.lr);
        }
        ovica_trainer_restore_best(t);  // OVICA_ESTATE if the monitor never ran: keep the last
        ovica_model *copy = NULL;
        check(ovica_model_clone(&copy, ovica_trainer_model(t)), "clone");
        model_.reset(copy);
    }

    std::vector<double> encode(const std::vector<double> &X) const
    {
        size_t N = X.size() / m_;
        std::vector<double> S(N * n_);
        ovica_solver *s = NULL;
        check(ovica_solver_new(&s, ovica_solver_fista), "solver");
        solver_ptr solver(s);
        check(ovica_solver_infer(s, model_.get(), X.data(), N, m_, S.data(), n_, NULL), "infer");
        return S;
    }

    std::vector<double> basis() const
    {
        std::vector<double> A(m_ * n_);
        check(ovica_model_get_basis(model_.get(), A.data(), m_, n_), "basis");
        return A;
    }

    size_t m() const { return m_; }
    size_t n() const { return n_; }

private:
    size_t m_, n_;
    prior_ptr prior_;
    model_ptr model_;
};

}  // namespace

int main(int argc, char **argv)
{
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const size_t m = 2, n = 3, N = quick ? 2000 : 20000, steps = quick ? 100 : 300;
    std::printf("libovica %s (compiled against %s)\n", ovica_version_string(), OVICA_VERSION_STRING);
    if (ovica_version_number() / 10000 != OVICA_VERSION_MAJOR) {
        std::fprintf(stderr, "cpp_host: library major version differs from the header's\n");
        return 1;
    }
    try {
        // data
        std::vector<double> A_true(m * n), S(N * n), X(N * m);
        ovica_rng *r = NULL;
        check(ovica_rng_new(&r, 1), "rng");
        rng_ptr rng(r);
        check(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A_true.data(), m, n), "basis");
        check(ovica_synth_sources(r, OVICA_PRIOR_EXPONENTIAL, 1.0, 1.0, S.data(), N, n), "sources");
        check(ovica_synth_mix(r, A_true.data(), m, n, S.data(), N, 0.05, X.data()), "mix");

        dictionary dict(m, n, 0.05);
        dict.fit(X, steps, 1);
        std::vector<double> A = dict.basis();
        ovica_recovery rec = OVICA_RECOVERY_INIT;
        check(ovica_recovery_eval(A.data(), m, n, A_true.data(), n, 1, 3.0, NULL, 0, &rec), "eval");
        std::printf("learned atoms:");
        for (size_t i = 0; i < n; i++)
            std::printf(" (%.3f, %.3f)", A[i], A[n + i]);
        std::printf("\nmax angle error %.2f degrees\n", rec.max_angle_deg);

        std::vector<double> codes = dict.encode(X);
        std::printf("codes of the first sample: %.3f %.3f %.3f\n", codes[0], codes[1], codes[2]);

        // an error becomes an exception with the library's message
        try {
            std::vector<double> bad(X.begin(), X.begin() + 10);
            bad[3] = std::nan("");
            dict.encode(bad);
            std::fprintf(stderr, "cpp_host: NaN was accepted\n");
            return 1;
        } catch (const ovica_error &e) {
            std::printf("caught: %s\n", e.what());
            if (e.status() != OVICA_ENONFINITE) return 1;
        }
        return rec.max_angle_deg < 5.0 ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "cpp_host: %s\n", e.what());
        return 1;
    }
}
