/*
 * Reloading a live handle: read its sources, build a candidate, validate
 * it and publish it, or keep the current snapshot and say why.
 *
 * A handle with one file and nothing else publishes that file's snapshot
 * as loaded.  A layered handle (drop-ins, an environment prefix, runtime
 * overrides) reads its file layers into a set and publishes their merge
 * with the overrides on top; the set is kept, so that a runtime override
 * rebuilds from it without reading any file.
 */
#include "error.h"
#include "layer.h"
#include "loader.h"
#include "publish.h"
#include "reload.h"
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool snapconf__layered(const snapconf *h)
{
    return h->ndropin_dirs || h->env_prefix || h->noverrides || h->files;
}

/* ------------------------------------------------------------------------- */
/* One file                                                                   */

static int reload_plain(snapconf *h, snapconf_error *e)
{
    char *data = NULL, hash[33];
    size_t len = 0;
    int rc = snapconf__read_file(h->path, h->opts.max_file_size, &data, &len, e);
    if (rc)
        return rc;
    snapconf__content_hash(data, len, hash);
    const snapconf_snap *cur = h->current;
    if (cur && strcmp(hash, cur->content_hash) == 0) {
        free(data);
        snapconf__record_unchanged(h);
        snapconf__log(h, SNAPCONF_LOG_DEBUG, "%s unchanged (same content hash)", h->path);
        return 0;
    }
    snapconf_snap *next = NULL;
    rc = snapconf__load_bytes(h->path, data, len, hash, &h->opts, &next, e);
    free(data);
    if (rc == 0 && (rc = snapconf__validate(h, next, e)) == 0)
        rc = snapconf__publish(h, next, e);
    if (rc)
        snapconf_snap_free(next);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Layers                                                                     */

int snapconf__layered_build(snapconf *h, const struct snapconf__layer_set *files,
                            struct snapconf__layer *const *overrides, size_t noverrides,
                            const struct snapconf__layer *fresh, snapconf_snap **out,
                            snapconf_error *e)
{
    size_t n = files->n + noverrides;
    struct snapconf__layer **all = malloc(n * sizeof(struct snapconf__layer *));
    if (!all)
        return snapconf__error(e, SNAPCONF_ENOMEM, h->path, 0, 0, "out of memory");
    memcpy(all, files->items, files->n * sizeof(struct snapconf__layer *));
    if (noverrides)
        memcpy(all + files->n, overrides, noverrides * sizeof(struct snapconf__layer *));
    snapconf_snap *snap = NULL;
    int rc = snapconf__merge(all, n, h->path, &h->opts, fresh, &snap, e);
    free(all);
    if (rc == 0 && (rc = snapconf__validate(h, snap, e)) != 0)
        snapconf_snap_free(snap);
    if (rc == 0)
        *out = snap;
    return rc;
}

static int reload_layered(snapconf *h, snapconf_error *e)
{
    struct snapconf__layer_set *set = NULL;
    int rc =
        snapconf__layers_load(h->path, h->opts.dropin_dirs, h->env_prefix, &h->opts, NULL, &set, e);
    if (rc)
        return rc;
    if (h->files && strcmp(set->hash, h->files->hash) == 0) {
        snapconf__layer_set_free(set);
        snapconf__record_unchanged(h);
        snapconf__log(h, SNAPCONF_LOG_DEBUG, "%s and its layers unchanged", h->path);
        return 0;
    }
    snapconf_snap *next = NULL;
    rc = snapconf__layered_build(h, set, h->overrides, h->noverrides, NULL, &next, e);
    if (rc == 0 && (rc = snapconf__publish(h, next, e)) != 0)
        snapconf_snap_free(next);
    if (rc) {
        snapconf__layer_set_free(set);
        return rc;
    }
    snapconf__layer_set_free(h->files);
    h->files = set;
    return 0;
}

static int reload_locked(snapconf *h, void *arg, snapconf_error *e)
{
    (void)arg;
    return snapconf__layered(h) ? reload_layered(h, e) : reload_plain(h, e);
}

int snapconf__reload(snapconf *h, snapconf_error *err)
{
    return snapconf__write(h, SNAPCONF__WRITE_RELOAD, reload_locked, NULL, err);
}

int snapconf_reload(snapconf *h, snapconf_error *err)
{
    int rc = snapconf__writer_check(h, "snapconf_reload", err);
    return rc ? rc : snapconf__reload(h, err);
}

/* ------------------------------------------------------------------------- */
/* The first snapshot                                                         */

static int first_plain(snapconf *h, snapconf_snap **out, snapconf_error *err)
{
    snapconf_snap *snap = NULL;
    int rc = snapconf_snap_load(h->path, NULL, 0, &h->opts, &snap, err);
    if (rc == SNAPCONF_EIO && h->opts.allow_missing && err->sys_errno == ENOENT) {
        snapconf__log(h, SNAPCONF_LOG_WARNING, "%s does not exist yet; starting empty", h->path);
        rc = snapconf_snap_load(h->path, "{}", 2, &h->opts, &snap, err);
    }
    if (rc == 0 && (rc = snapconf__validate(h, snap, err)) != 0)
        snapconf_snap_free(snap);
    if (rc == 0)
        *out = snap;
    return rc;
}

int snapconf__first_snapshot(snapconf *h, snapconf_snap **out, snapconf_error *err)
{
    int rc = h->state_file ? snapconf__layers_from_state(h->state_file, &h->opts, &h->overrides,
                                                         &h->noverrides, err)
                           : 0;
    if (rc)
        return rc;
    if (!snapconf__layered(h))
        return first_plain(h, out, err);
    rc = snapconf__layers_load(h->path, h->opts.dropin_dirs, h->env_prefix, &h->opts, NULL,
                               &h->files, err);
    return rc ? rc
              : snapconf__layered_build(h, h->files, h->overrides, h->noverrides, NULL, out, err);
}

void snapconf__layered_fini(snapconf *h)
{
    snapconf__layer_set_free(h->files);
    h->files = NULL;
    for (size_t i = 0; i < h->noverrides; i++)
        snapconf__layer_unref(h->overrides[i]);
    free(h->overrides);
    h->overrides = NULL;
    h->noverrides = 0;
}
