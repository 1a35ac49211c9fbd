/* Helper of tests/test_nade_torch.sh: loads NADE weights and a batch written by
 * PyTorch, runs latent's loss, backward and log_prob, writes the results back.
 * Usage: nade_tool DIR D H C B
 *   DIR/in.bin  float32: W (D,H), c (H), V (D,H), b (D), [U (H,C)], x (B,D), y (B) as floats
 *   DIR/out.bin float32: loss, log p (B), dW, dc, dV, db, [dU] */
#include <stdio.h>
#include <stdlib.h>

#include "autograd/backward.h"
#include "models/model.h"

static int rd(FILE *f, float *p, long n) { return fread(p, sizeof(float), (size_t)n, f) == (size_t)n; }

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: nade_tool DIR D H C B\n"); return 2; }
    long D = atol(argv[2]), H = atol(argv[3]), C = atol(argv[4]), B = atol(argv[5]);
    char path[1024], cfg[256];
    snprintf(cfg, sizeof cfg, "{\"dim\": %ld, \"hidden\": %ld, \"n_classes\": %ld}", D, H, C);
    lt_model *m;
    json_t *j = json_loads(cfg, 0, NULL);
    if (lt_model_create("nade", j, &m)) { fprintf(stderr, "%s\n", lt_error_message()); return 1; }
    json_decref(j);
    const char *names[] = {"W", "c", "V", "b", "U"};
    int np = C > 0 ? 5 : 4;
    snprintf(path, sizeof path, "%s/in.bin", argv[1]);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    float *x = malloc(sizeof(float) * B * D), *yf = malloc(sizeof(float) * B);
    int64_t *y = malloc(sizeof(int64_t) * B);
    int ok = 1;
    for (int i = 0; i < np; i++) {
        lt_tensor *t = &lt_params_find(&m->params, names[i])->t;
        ok &= rd(f, t->data, (long)lt_numel(t));
    }
    ok &= rd(f, x, B * D) && rd(f, yf, B);
    fclose(f);
    if (!ok) { fprintf(stderr, "%s: short read\n", path); return 1; }
    for (long i = 0; i < B; i++) y[i] = (int64_t)yf[i];
    lt_graph g;
    lt_graph_init(&g, 0);
    lt_batch b = {x, C > 0 ? y : NULL, B, D, NULL};
    lt_tensor *loss;
    lt_params_zero_grad(&m->params);
    if (m->vt->loss(m, &g, &b, &loss) || lt_backward(&g, loss)) { fprintf(stderr, "%s\n", lt_error_message()); return 1; }
    float lv = loss->data[0];
    lt_graph_reset(&g);
    double *lp = malloc(sizeof(double) * B);
    if (m->vt->log_prob(m, &g, &b, NULL, lp)) { fprintf(stderr, "%s\n", lt_error_message()); return 1; }
    snprintf(path, sizeof path, "%s/out.bin", argv[1]);
    f = fopen(path, "wb");
    if (!f) { perror(path); return 1; }
    fwrite(&lv, sizeof lv, 1, f);
    for (long i = 0; i < B; i++) { float v = (float)lp[i]; fwrite(&v, sizeof v, 1, f); }
    for (int i = 0; i < np; i++) {
        lt_tensor *t = &lt_params_find(&m->params, names[i])->t;
        fwrite(t->grad, sizeof(float), (size_t)lt_numel(t), f);
    }
    fclose(f);
    lt_graph_free(&g);
    lt_model_destroy(m);
    free(x); free(yf); free(y); free(lp);
    return 0;
}
