/* See fd_sets.h. */
#include "cli/fd_sets.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/run_data.h"
#include "core/alloc.h"
#include "data/image_cells.h"
#include "io/digest.h"
#include "train/features.h"
#include "train/rundir.h"

lt_status lt_cli_encoder_open(const char *run, const char *which, lt_cli_encoder *e) {
    memset(e, 0, sizeof *e);
    e->run = run;
    snprintf(e->path, sizeof e->path, "%s/checkpoints/%s.safetensors", run, which);
    lt_status st = lt_checkpoint_open_model(run, which, &e->m, NULL);
    if (!st && !lt_features_size(e->m, 0))
        st = lt_fail(LT_ERR_ARG, "encoder %s: model '%s' has no features capability", run, e->m->vt->name);
    if (!st) st = lt_sha256_file(e->path, e->sha256);
    lt_dataset d;
    if (!st && !(st = lt_cli_run_data(run, e->m, &d, &e->bo))) lt_dataset_free(&d); /* only its conversion */
    if (st) lt_cli_encoder_close(e);
    return st;
}

void lt_cli_encoder_close(lt_cli_encoder *e) {
    lt_model_destroy(e->m);
    e->m = NULL;
}

static lt_status lti_open_source(const lt_cli_encoder *e, const char *src, lt_dataset *d) {
    if (src) return lt_dataset_open_source(src, NULL, 0, d);
    lt_batch_opts bo;
    return lt_cli_run_data(e->run, e->m, d, &bo);
}

lt_status lt_cli_source_features(const lt_cli_encoder *e, const char *src, lt_split_id s, int64_t n, float **f,
                                 int64_t *got) {
    *f = NULL;
    *got = 0;
    lt_dataset d;
    lt_status st = lti_open_source(e, src, &d);
    if (st) return st;
    if (d.dim != e->m->dim || d.channels != e->m->channels)
        st = lt_fail(LT_ERR_ARG, "%s: images of %lldx%lldx%lld, the encoder reads %lldx%lldx%lld", src ? src : e->run,
                     (long long)d.channels, (long long)d.height, (long long)d.width, (long long)e->m->channels,
                     (long long)e->m->height, (long long)e->m->width);
    const int64_t k = d.split[s].n < n ? d.split[s].n : n, fs = lt_features_size(e->m, 0);
    if (!st && k < 2) st = lt_fail(LT_ERR_ARG, "%s: split '%s' has %lld examples, >= 2 needed", src ? src : e->run,
                                   lt_split_name(s), (long long)k);
    if (!st && !(*f = lt_malloc(sizeof(float) * (size_t)(k * fs))))
        st = lt_fail(LT_ERR_NOMEM, "features of %lld images", (long long)k);
    lt_graph g;
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) {
        st = lt_features_split(e->m, &g, &d, s, &e->bo, 0, k, 0, *f, NULL);
        lt_graph_free(&g);
    }
    lt_dataset_free(&d);
    if (st) lt_free(*f), *f = NULL;
    else *got = k;
    return st;
}

static int lti_is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int lti_has_png(const char *dir) {
    DIR *d = opendir(dir);
    int found = 0;
    if (!d) return 0;
    for (struct dirent *en; !found && (en = readdir(d));) {
        const size_t L = strlen(en->d_name);
        found = L > 4 && !strcmp(en->d_name + L - 4, ".png");
    }
    closedir(d);
    return found;
}

lt_status lt_cli_set_features(const lt_cli_encoder *e, const char *spec, lt_split_id s, int64_t n, uint64_t seed,
                              const lt_sample_opts *so, float **f, int64_t *got, const char **kind) {
    char p[4200];
    snprintf(p, sizeof p, "%s/checkpoints", spec);
    *f = NULL;
    *got = 0;
    float *x = NULL; /* (k, dim) images in [0, 1] */
    int64_t k = 0, c = 0, h = 0, w = 0;
    lt_status st;
    const lt_model *m = e->m;
    if (lti_is_dir(p)) {
        *kind = "samples";
        st = lt_run_sample_images(spec, "best", seed, n, so, &x, &c, &h, &w);
        if (!st && (c != m->channels || h != m->height || w != m->width))
            st = lt_fail(LT_ERR_ARG, "run %s samples %lldx%lldx%lld images, the encoder reads %lldx%lldx%lld", spec,
                         (long long)c, (long long)h, (long long)w, (long long)m->channels, (long long)m->height,
                         (long long)m->width);
        k = n;
    } else if (lti_is_dir(spec) && lti_has_png(spec)) {
        *kind = "png";
        st = lt_image_cells_load(spec, m->channels, m->height, m->width, n, &x, &k);
        if (!st && k < 2) st = lt_fail(LT_ERR_ARG, "%s: %lld images, >= 2 needed", spec, (long long)k);
    } else {
        *kind = "data";
        return lt_cli_source_features(e, spec, s, n, f, got);
    }
    const int64_t fs = lt_features_size(m, 0);
    if (!st && !(*f = lt_malloc(sizeof(float) * (size_t)(k * fs))))
        st = lt_fail(LT_ERR_NOMEM, "features of %lld images", (long long)k);
    lt_graph g;
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) {
        st = lt_features_images(e->m, &g, x, k, 0, *f);
        lt_graph_free(&g);
    }
    lt_free(x);
    if (st) lt_free(*f), *f = NULL;
    else *got = k;
    return st;
}

lt_status lt_cli_recon_features(const lt_cli_encoder *e, const char *run, lt_split_id s, int64_t n, float **f,
                                int64_t *got) {
    *f = NULL;
    *got = 0;
    lt_model *m = NULL;
    float *x = NULL, *rec = NULL; /* (n, dim) inputs; (n, dim) in [0, 1] */
    lt_graph g;
    int g_ready = 0;
    lt_status st = lt_cli_open_run(run, "best", lt_split_name(s), n, &m, &x);
    if (!st && (m->channels != e->m->channels || m->height != e->m->height || m->width != e->m->width))
        st = lt_fail(LT_ERR_ARG, "--recon %s: images of %lldx%lldx%lld, the encoder reads %lldx%lldx%lld", run,
                     (long long)m->channels, (long long)m->height, (long long)m->width, (long long)e->m->channels,
                     (long long)e->m->height, (long long)e->m->width);
    const int64_t D = m ? m->dim : 0;
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    if (!st && !(rec = lt_malloc(sizeof(float) * (size_t)(n * D))))
        st = lt_fail(LT_ERR_NOMEM, "reconstructions of %lld images", (long long)n);
    if (!st && (st = lt_reconstruct_images(m, &g, x, n, 100, rec))) st = lt_fail_context(st, "--recon %s: ", run);
    const int64_t fs = lt_features_size(e->m, 0);
    if (!st && !(*f = lt_malloc(sizeof(float) * (size_t)(n * fs))))
        st = lt_fail(LT_ERR_NOMEM, "features of %lld images", (long long)n);
    if (!st) st = lt_features_images(e->m, &g, rec, n, 0, *f);
    if (st) lt_free(*f), *f = NULL;
    else *got = n;
    if (g_ready) lt_graph_free(&g);
    lt_free(rec);
    lt_free(x);
    lt_model_destroy(m);
    return st;
}
