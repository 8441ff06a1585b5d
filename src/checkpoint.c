/*
 * Training checkpoints (ovica/modelio.h): a model file with a "TRST"
 * section holding what the trainer's public API exposes: the rule, the step
 * index, every parameter, and the best basis with its monitor objective.
 */
#include <math.h>
#include <string.h>

#include "modelio_internal.h"
#include "trainer_internal.h"
#include "ovica/modelio.h"
#include "ovica/trainer.h"

#define NAME_MAX_LEN 64u
#define MAX_PARAMS 4096u

/* The TRST payload (all little-endian):
 *   u32 length of the rule's name, then the name (ASCII, no NUL)
 *   u64 step index (steps applied so far)
 *   u32 P, then P times (u32 parameter id, f64 value)
 *   u32 flags (bit 0: a best basis follows)
 *   f64 best monitor objective (NaN if none)
 *   [m x n f64: the best basis, row-major, if flag bit 0]
 *   [if flag bit 1 (since 0.3): u32 regime (enum ovica_regime), u64 the step
 *    at which auto's dense route started, f64 the sparse route's noise
 *    variance estimate (-1: none), f64 its unexplained fraction (NaN: none),
 *    f64 its mean square data entry, f64 the host's sigma, f64 the host's
 *    prior scale]
 */
enum { TRST_HAS_BEST = 1, TRST_HAS_REGIME = 2, TRST_HAS_NOISE = 4 };

int ovica_checkpoint_save_buffer(const ovica_trainer *t, void **buf, size_t *len)
{
    if (buf) *buf = NULL;
    if (len) *len = 0;
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(buf, "buf");
    OVICA__CHECK_NULL(len, "len");
    const ovica_model *model = ovica_trainer_model(t);
    int st = ovica__model_check_savable(model);
    if (st) return st;
    size_t m = ovica_model_dim(model), n = ovica_model_atoms(model);
    const char *rule = ovica_rule_type_name(ovica_trainer_rule(t));
    size_t rlen = strlen(rule);
    if (rlen == 0 || rlen > NAME_MAX_LEN)
        return ovica__error(OVICA_EINVAL, "%s: the trainer's rule has no valid name", __func__);

    /* Every parameter this library knows: ids 0 .. count-1. */
    uint32_t np = (uint32_t)ovica_trainer_param_count();
    if (np > MAX_PARAMS) np = MAX_PARAMS;

    double *best = ovica__alloc_doubles(m * n, "the best basis");
    if (best == NULL) return OVICA_ENOMEM;
    double best_obj = NAN;
    /* (no best basis before the monitor has run: asked only when there is
     * one, so that the host's last error stays as it was) */
    int has_best = !isnan(t->best);
    if (has_best) {
        st = ovica_trainer_best_basis(t, best, m, n, &best_obj);
        if (st) {
            ovica__free(best);
            return st;
        }
    }

    ovica__wbuf w = {NULL, 0, 0, 0};
    ovica__wb_header(&w);
    ovica__wb_model(&w, model);
    size_t at = ovica__wb_section_begin(&w, "TRST");
    ovica__wb_u32(&w, (uint32_t)rlen);
    ovica__wb_bytes(&w, rule, rlen);
    ovica__wb_u64(&w, (uint64_t)ovica_trainer_step_index(t));
    ovica__wb_u32(&w, np);
    for (uint32_t p = 0; p < np; p++) {
        double v = 0;
        st = ovica_trainer_get_param(t, (int)p, &v);
        if (st) break;
        ovica__wb_u32(&w, p);
        ovica__wb_f64(&w, v);
    }
    ovica__wb_u32(&w, (has_best ? TRST_HAS_BEST : 0) | TRST_HAS_REGIME | TRST_HAS_NOISE);
    ovica__wb_f64(&w, has_best ? best_obj : NAN);
    if (has_best) ovica__wb_f64s(&w, best, m * n);
    ovica__regime_state rs;
    ovica__regime_get(t, &rs);
    ovica__wb_u32(&w, (uint32_t)rs.regime);
    ovica__wb_u64(&w, rs.phase0);
    ovica__wb_f64(&w, rs.sig2);
    ovica__wb_f64(&w, rs.unexpl);
    ovica__wb_f64(&w, rs.data_ms);
    ovica__wb_f64(&w, rs.sigma0);
    ovica__wb_f64(&w, rs.b0);
    ovica__wb_u32(&w, (uint32_t)rs.noise_refit);
    ovica__wb_u64(&w, rs.probe_ext);
    ovica__wb_f64(&w, rs.probe_d0);
    ovica__wb_section_end(&w, at);
    ovica__free(best);
    if (st) {
        ovica__free(w.p);
        return st;
    }
    st = ovica__wb_finish(&w);
    if (st) return st;
    *buf = w.p;
    *len = w.len;
    return OVICA_OK;
}

int ovica_checkpoint_save(const ovica_trainer *t, const char *path)
{
    OVICA__CHECK_NULL(t, "trainer");
    OVICA__CHECK_NULL(path, "path");
    if (path[0] == '\0') return ovica__error(OVICA_EINVAL, "%s: path is empty", __func__);
    void *buf = NULL;
    size_t len = 0;
    int st = ovica_checkpoint_save_buffer(t, &buf, &len);
    if (st) return st;
    st = ovica__save_image(path, "checkpoint file", buf, len);
    ovica__free(buf);
    return st;
}

/* Decodes the TRST section and builds the trainer. */
static int decode_checkpoint(const ovica__image *img, const unsigned char *bytes, size_t len,
                             ovica_trainer **out)
{
    const char *origin = img->modl.origin;
    if (img->trst.p == NULL)
        return ovica__error(OVICA_EFORMAT,
                            "%s: a model file without training state (no 'TRST' section); load "
                            "it with ovica_model_load", origin);
    ovica_model *model = NULL;
    int st = ovica__decode_model(img, &model);
    if (st) return st;
    size_t m = ovica_model_dim(model), n = ovica_model_atoms(model);

    ovica__rbuf r = img->trst;
    uint32_t rlen = 0, np = 0, flags = 0;
    uint64_t step = 0;
    const unsigned char *name = NULL;
    char rule_name[NAME_MAX_LEN + 1];
    double best_obj = NAN, *best = NULL;
    ovica_trainer *t = NULL;
    const ovica_rule_type *rule = NULL;

    st = ovica__rb_u32(&r, &rlen, "the length of the rule's name");
    if (st == OVICA_OK && (rlen == 0 || rlen > NAME_MAX_LEN))
        st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': invalid rule name length %lu",
                          origin, (unsigned long)rlen);
    if (st == OVICA_OK) st = ovica__rb_take(&r, rlen, &name, "the rule's name");
    if (st == OVICA_OK) {
        for (uint32_t i = 0; i < rlen; i++) {
            unsigned char c = name[i];
            rule_name[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
        }
        rule_name[rlen] = '\0';
        rule = ovica_rule_type_find(rule_name);
        if (rule == NULL)
            st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': unknown rule '%s'", origin,
                              rule_name);
    }
    if (st == OVICA_OK) st = ovica__rb_u64(&r, &step, "the step index");
    if (st == OVICA_OK && step > (uint64_t)1e12)
        st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': step index %llu out of range",
                          origin, (unsigned long long)step);
    if (st == OVICA_OK) st = ovica__rb_u32(&r, &np, "the number of parameters");
    if (st == OVICA_OK && np > MAX_PARAMS)
        st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': %lu parameters", origin,
                          (unsigned long)np);
    /* The trainer; its seed is derived from the file, so that loading the
     * same checkpoint twice gives the same run. */
    if (st == OVICA_OK)
        st = ovica_trainer_new(&t, model, rule, ovica__crc64(bytes, len) ^ step);
    for (uint32_t i = 0; st == OVICA_OK && i < np; i++) {
        uint32_t id = 0;
        double v = 0;
        st = ovica__rb_u32(&r, &id, "a parameter id");
        if (st == OVICA_OK) st = ovica__rb_f64(&r, &v, "a parameter value");
        if (st) break;
        if (id >= (uint32_t)ovica_trainer_param_count()) {
            st = ovica__error(OVICA_EVERSION,
                              "%s: section 'TRST': parameter id %lu is unknown to this library "
                              "(a newer version wrote it?)", origin, (unsigned long)id);
            break;
        }
        if (ovica_trainer_set_param(t, (int)id, v) != OVICA_OK)
            st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': parameter %lu has the invalid "
                              "value %g", origin, (unsigned long)id, v);
    }
    if (st == OVICA_OK) st = ovica__rb_u32(&r, &flags, "the flags");
    if (st == OVICA_OK && (flags & ~(uint32_t)(TRST_HAS_BEST | TRST_HAS_REGIME | TRST_HAS_NOISE)) != 0)
        st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': unknown flags %#lx", origin,
                          (unsigned long)flags);
    if (st == OVICA_OK) st = ovica__rb_f64(&r, &best_obj, "the best objective");
    if (st == OVICA_OK && (flags & TRST_HAS_BEST)) {
        const unsigned char *bb = NULL;
        st = ovica__rb_take(&r, m * n * 8, &bb, "the best basis");
        if (st == OVICA_OK && !isfinite(best_obj))
            st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': best objective %g", origin,
                              best_obj);
        if (st == OVICA_OK) {
            best = ovica__alloc_doubles(m * n, "the best basis");
            if (best == NULL) st = OVICA_ENOMEM;
            else ovica__decode_f64s(bb, best, m * n);
        }
        for (size_t k = 0; st == OVICA_OK && k < m * n; k++)
            if (!isfinite(best[k]))
                st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': the best basis holds %g",
                                  origin, best[k]);
    }
    if (st == OVICA_OK && (flags & TRST_HAS_REGIME)) {
        ovica__regime_state rs;
        uint32_t regime = 0;
        st = ovica__rb_u32(&r, &regime, "the regime");
        if (st == OVICA_OK) st = ovica__rb_u64(&r, &rs.phase0, "the dense route's first step");
        if (st == OVICA_OK) st = ovica__rb_f64(&r, &rs.sig2, "the noise estimate");
        if (st == OVICA_OK) st = ovica__rb_f64(&r, &rs.unexpl, "the unexplained fraction");
        if (st == OVICA_OK) st = ovica__rb_f64(&r, &rs.data_ms, "the data's mean square");
        if (st == OVICA_OK) st = ovica__rb_f64(&r, &rs.sigma0, "the host's sigma");
        if (st == OVICA_OK) st = ovica__rb_f64(&r, &rs.b0, "the host's prior scale");
        /* (files before the refitted noise estimate: the codes' residual) */
        uint32_t refit = 0;
        rs.probe_ext = 0;
        if (st == OVICA_OK && (flags & TRST_HAS_NOISE))
            st = ovica__rb_u32(&r, &refit, "the noise estimate's kind");
        rs.probe_d0 = NAN;
        if (st == OVICA_OK && (flags & TRST_HAS_NOISE))
            st = ovica__rb_u64(&r, &rs.probe_ext, "the probe's extension");
        if (st == OVICA_OK && (flags & TRST_HAS_NOISE))
            st = ovica__rb_f64(&r, &rs.probe_d0, "the first probe's measurement");
        rs.noise_refit = refit > 1 ? -1 : (int)refit;
        if (st == OVICA_OK) {
            rs.regime = regime > 3 ? -1 : (int)regime;
            if (ovica__regime_set(t, &rs) != OVICA_OK)
                st = ovica__error(OVICA_EFORMAT, "%s: section 'TRST': %s", origin,
                                  ovica_error_message());
        }
    }
    if (st == OVICA_OK) st = ovica__rb_end(&r);
    if (st == OVICA_OK) st = ovica_trainer_set_step_index(t, (size_t)step);
    if (st == OVICA_OK && best != NULL) st = ovica_trainer_set_best(t, best, m, n, best_obj);
    ovica__free(best);
    ovica_model_free(model);
    if (st) {
        ovica_trainer_free(t);
        return st;
    }
    *out = t;
    return OVICA_OK;
}

int ovica_checkpoint_load_buffer(ovica_trainer **out, const void *buf, size_t len)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(buf, "buf");
    ovica__image img;
    int st = ovica__parse_image(buf, len, "checkpoint buffer", &img);
    if (st == OVICA_OK) st = decode_checkpoint(&img, buf, len, out);
    return st;
}

int ovica_checkpoint_load(ovica_trainer **out, const char *path)
{
    OVICA__CHECK_NULL(out, "out");
    OVICA__CHECK_NULL(path, "path");
    char origin[160];
    unsigned char *buf = NULL;
    size_t len = 0;
    int st = ovica__load_image(path, "checkpoint file", &buf, &len, origin, sizeof origin);
    if (st) return st;
    ovica__image img;
    st = ovica__parse_image(buf, len, origin, &img);
    if (st == OVICA_OK) st = decode_checkpoint(&img, buf, len, out);
    ovica__free(buf);
    return st;
}
