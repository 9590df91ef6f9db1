#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/onnx_import.h"

oct_status oct_map_file(const char *path, oct_mapped_file *f, oct_error *err) {
    f->data = NULL;
    f->size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return oct_fail(err, OCT_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return oct_fail(err, OCT_E_IO, "'%s' is not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        f->data = NULL;
        return OCT_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return oct_fail(err, OCT_E_IO, "cannot map '%s': %s", path, strerror(errno));
    f->data = p;
    f->size = (size_t)st.st_size;
    return OCT_OK;
}

void oct_unmap_file(oct_mapped_file *f) {
    if (f->data) munmap(f->data, f->size);
    f->data = NULL;
    f->size = 0;
}
