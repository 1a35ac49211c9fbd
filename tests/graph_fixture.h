/* The cmocka fixture of the op-level tests (test_attention.c, test_ops_values.c, test_ssl.c):
 * one graph G, made by the group setup and freed by its teardown. Header only, like
 * test_util.h: each test file is its own executable. Include after <cmocka.h>; nn_fixture.h
 * is the same plus parameters, buffers and an rng. */
#ifndef LT_GRAPH_FIXTURE_H
#define LT_GRAPH_FIXTURE_H

#include "core/graph.h"

static lt_graph G;

static int setup(void **state) {
    (void)state;
    return lt_graph_init(&G, 0) ? -1 : 0;
}
static int teardown(void **state) {
    (void)state;
    lt_graph_free(&G);
    return 0;
}

#endif
