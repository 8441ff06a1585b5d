/*
 * Saving, loading and resuming: model files and training checkpoints.
 *
 * 1. Train for half the planned steps, then write a checkpoint
 *    (ovica_checkpoint_save: the model plus the rule, the step index, every
 *    trainer parameter and the best basis) and free everything, as a
 *    program that is stopped would.
 * 2. Make a new trainer from the checkpoint (ovica_checkpoint_load): it
 *    goes on at the saved step, so the learning-rate and annealing
 *    schedules continue where they were. Train the second half.
 * 3. Save the final model (ovica_model_save), load it back
 *    (ovica_model_load) and encode data with it: the loaded model is the
 *    saved one bit for bit, so the codes are equal too.
 * 4. Show what a damaged file gives: OVICA_EFORMAT and a message, never a
 *    crash, and the output pointer untouched.
 *
 *   checkpoint_resume [--quick] [DIR]     (files go to DIR, default ".")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ovica.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        int st_ = (call);                                                             \
        if (st_ < 0) {                                                                \
            fprintf(stderr, "checkpoint_resume: %s failed: %s: %s\n", #call,          \
                    ovica_strerror(st_), ovica_error_message());                      \
            goto fail;                                                                \
        }                                                                             \
    } while (0)

int main(int argc, char **argv)
{
    int argi = 1;
    const int quick = argc > argi && strcmp(argv[argi], "--quick") == 0;
    if (quick) argi++;
    const char *dir = argc > argi ? argv[argi] : ".";
    const size_t m = 2, n = 3, N = quick ? 2000 : 20000, steps = quick ? 120 : 400;
    const double sigma = 0.05;
    char ck_path[4096], model_path[4096], bad_path[4096];
    snprintf(ck_path, sizeof ck_path, "%s/example.ckpt", dir);
    snprintf(model_path, sizeof model_path, "%s/example.ovm", dir);
    snprintf(bad_path, sizeof bad_path, "%s/damaged.ovm", dir);

    double A_true[6], A1[6], A2[6];
    double *S = malloc(N * n * sizeof *S), *X = malloc(N * m * sizeof *X);
    double *S1 = malloc(N * n * sizeof *S1), *S2 = malloc(N * n * sizeof *S2);
    ovica_rng *rng = NULL;
    ovica_prior *prior = NULL;
    ovica_model *model = NULL, *loaded = NULL, *never = NULL;
    ovica_trainer *t = NULL;
    ovica_solver *fista = NULL;
    void *bytes = NULL;
    int code = 1;
    if (S == NULL || X == NULL || S1 == NULL || S2 == NULL) goto fail;

    /* the article's regular set: 3 exponential sources at 90, 210 and 330
     * degrees */
    CHECK(ovica_rng_new(&rng, 11));
    CHECK(ovica_synth_basis_2d(OVICA_SYNTH_REGULAR3, A_true, m, n));
    CHECK(ovica_synth_sources(rng, OVICA_PRIOR_EXPONENTIAL, 1.0, 1.0, S, N, n));
    CHECK(ovica_synth_mix(rng, A_true, m, n, S, N, sigma, X));

    /* 1. first half, then a checkpoint */
    CHECK(ovica_prior_exponential_new(&prior, 1.0));
    CHECK(ovica_model_new(&model, m, n, prior, sigma));
    CHECK(ovica_trainer_new(&t, model, ovica_rule_auto, 2));
    CHECK(ovica_trainer_set_param(t, OVICA_TRAIN_STEPS, (double)steps));
    CHECK(ovica_trainer_init_basis(t, OVICA_INIT_SPREAD, X, N, m));
    ovica_step_stats s = OVICA_STEP_STATS_INIT;
    for (size_t k = 0; k < steps / 2; k++) CHECK(ovica_trainer_step(t, X, N, m, &s));
    printf("first run: %zu steps, lr now %.4f, sigma_t %.4f\n", ovica_trainer_step_index(t),
           s.lr, s.sigma_t);
    CHECK(ovica_checkpoint_save(t, ck_path));
    printf("checkpoint written to %s\n", ck_path);
    ovica_trainer_free(t);
    t = NULL;

    /* 2. resume */
    CHECK(ovica_checkpoint_load(&t, ck_path));
    double planned = 0;
    CHECK(ovica_trainer_get_param(t, OVICA_TRAIN_STEPS, &planned));
    printf("resumed: rule %s, at step %zu of %.0f\n", ovica_rule_type_name(ovica_trainer_rule(t)),
           ovica_trainer_step_index(t), planned);
    while (ovica_trainer_step_index(t) < (size_t)planned) CHECK(ovica_trainer_step(t, X, N, m, &s));
    printf("second run: at step %zu, lr %.4f, sigma_t %.4f\n", ovica_trainer_step_index(t), s.lr,
           s.sigma_t);
    if (ovica_trainer_restore_best(t) == OVICA_OK) printf("kept the best basis seen\n");
    CHECK(ovica_model_get_basis(ovica_trainer_model(t), A1, m, n));

    ovica_recovery rec = OVICA_RECOVERY_INIT;
    CHECK(ovica_recovery_eval(A1, m, n, A_true, n, 1, 3.0, NULL, 0, &rec));
    printf("recovery: max angle %.2f, mean %.2f degrees, %zu/%zu atoms within 3 degrees\n",
           rec.max_angle_deg, rec.mean_angle_deg, rec.recovered, rec.n_true);

    /* 3. model file round trip */
    CHECK(ovica_model_save(ovica_trainer_model(t), model_path));
    CHECK(ovica_model_load(&loaded, model_path));
    CHECK(ovica_model_get_basis(loaded, A2, m, n));
    CHECK(ovica_solver_new(&fista, ovica_solver_fista));
    CHECK(ovica_solver_infer(fista, ovica_trainer_model(t), X, N, m, S1, n, NULL));
    CHECK(ovica_solver_infer(fista, loaded, X, N, m, S2, n, NULL));
    int same = memcmp(A1, A2, sizeof A1) == 0 && memcmp(S1, S2, N * n * sizeof *S1) == 0 &&
               ovica_model_sigma(loaded) == sigma;
    printf("model file %s: loaded %s, codes %s\n", model_path,
           ovica_prior_name(ovica_model_prior(loaded)), same ? "identical" : "DIFFERENT");

    /* 4. a damaged file */
    size_t len = 0;
    CHECK(ovica_model_save_buffer(loaded, &bytes, &len));
    ((unsigned char *)bytes)[len / 2] ^= 0x10;   /* one flipped bit */
    FILE *f = fopen(bad_path, "wb");
    if (f == NULL || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) goto fail;
    int st = ovica_model_load(&never, bad_path);
    printf("damaged file: %s (%s); model pointer %s\n", ovica_strerror(st), ovica_error_message(),
           never == NULL ? "untouched" : "SET");
    code = same && st == OVICA_EFORMAT && never == NULL && rec.max_angle_deg < 5.0 ? 0 : 1;
fail:
    ovica_free(bytes);
    ovica_solver_free(fista);
    ovica_trainer_free(t);
    ovica_model_free(never);
    ovica_model_free(loaded);
    ovica_model_free(model);
    ovica_prior_free(prior);
    ovica_rng_free(rng);
    free(S);
    free(X);
    free(S1);
    free(S2);
    return code;
}
