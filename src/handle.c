/* Opening and closing a live handle: publication first, then the watcher,
 * torn down in the reverse order. */
#include "error.h"
#include "loader.h"
#include "publish.h"
#include "reload.h"
#include "snapshot.h"
#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int snapconf_open(snapconf **out, const char *path, const snapconf_options *opts,
                  snapconf_error *err)
{
    if (!out || !path)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_open: out and path are required");
    snapconf *h = calloc(1, sizeof *h);
    if (!h)
        return snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0, "out of memory");
    /* Work on a local error so that err is written only on failure. */
    snapconf_error e_local, *e = &e_local;
    int rc = snapconf__publish_init(h, path, opts, e);
    if (rc) {
        free(h);
        if (err)
            *err = *e;
        return rc;
    }
    snapconf_snap *first = NULL;
    if ((rc = snapconf__first_snapshot(h, &first, e)) == 0) {
        snapconf__publish_initial(h, first);
        rc = snapconf__watch_start(h, e);
    }
    if (rc) {
        snapconf__publish_fini(h);
        snapconf__layered_fini(h);
        free(h);
        if (err)
            *err = *e;
        return rc;
    }
    *out = h;
    return 0;
}

void snapconf_close(snapconf *h)
{
    if (!h)
        return;
    snapconf__watch_stop(h);
    snapconf__publish_fini(h);
    snapconf__layered_fini(h);
    free(h);
}

int snapconf_fd(snapconf *h)
{
    return h ? snapconf__watch_fd(h) : -1;
}

int snapconf_process(snapconf *h)
{
    return h ? snapconf__watch_process(h) : SNAPCONF_EINVAL;
}
