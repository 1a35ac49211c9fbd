/* The registry of gradient-check cases: one list per op family. */
#include "autograd/gradcheck.h"

extern const lt_gc_case lti_gc_cases_matmul[];
extern const lt_gc_case lti_gc_cases_binary[];
extern const lt_gc_case lti_gc_cases_unary[];
extern const lt_gc_case lti_gc_cases_reduce[];
extern const lt_gc_case lti_gc_cases_loss[];
extern const lt_gc_case lti_gc_cases_shape[];
extern const lt_gc_case lti_gc_cases_conv[];
extern const lt_gc_case lti_gc_cases_norm[];
extern const lt_gc_case lti_gc_cases_attention[];
extern const lt_gc_case lti_gc_cases_special[];
extern const lt_gc_case lti_gc_cases_nade[];
extern const lt_gc_case lti_gc_cases_contrastive[];

static const lt_gc_case *const lti_families[] = {
    lti_gc_cases_matmul,
    lti_gc_cases_binary,
    lti_gc_cases_unary,
    lti_gc_cases_reduce,
    lti_gc_cases_loss,
    lti_gc_cases_shape,
    lti_gc_cases_conv,
    lti_gc_cases_norm,
    lti_gc_cases_attention,
    lti_gc_cases_special,
    lti_gc_cases_nade,
    lti_gc_cases_contrastive,
};

const lt_gc_case *const *lt_gc_cases(int64_t *n) {
    static const lt_gc_case *all[256];
    static int64_t count = -1;
    if (count < 0) {
        count = 0;
        for (size_t f = 0; f < sizeof lti_families / sizeof lti_families[0]; f++)
            for (const lt_gc_case *c = lti_families[f]; c->op && count < 256; c++) all[count++] = c;
    }
    *n = count;
    return all;
}
