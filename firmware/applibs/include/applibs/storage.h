/* Applibs storage.h: the app's read-only image package and its mutable storage (Microsoft Learn, Azure Sphere
 * "Applibs storage.h"). Written for this project from the public API reference; names and signatures as the SDK's.
 *
 * Mutable storage needs the "MutableStorage" capability (with its SizeKB) in the app manifest: without it the
 * mutable-storage functions fail with EACCES; writes past SizeKB fail. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* A descriptor (read/write) to the app's mutable storage file, created empty the first time; -1 with errno. */
int Storage_OpenMutableFile(void);

/* Deletes the app's mutable storage file; 0, or -1 with errno (ENOENT: there is none). */
int Storage_DeleteMutableFile(void);

/* The absolute path of `relativePath` inside the running app's image package, in memory the caller frees;
 * NULL with errno (EFAULT: NULL path; EINVAL: an absolute path). */
char *Storage_GetAbsolutePathInImagePackage(const char *relativePath);

/* Opens `relativePath` inside the image package read-only; a descriptor, or -1 with errno. */
int Storage_OpenFileInImagePackage(const char *relativePath);

#ifdef __cplusplus
}
#endif
