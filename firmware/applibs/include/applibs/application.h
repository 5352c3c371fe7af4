/* Applibs application.h: communication with real-time capable apps and the app's device-authentication state
 * (Microsoft Learn, Azure Sphere "Applibs application.h"). Written for this project from the public API
 * reference; names and signatures as the SDK's. */
#pragma once

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A socket connected to the real-time capable app `componentId` (its GUID as a string). Each send() is one
 * message (at most 1024 bytes), each recv() returns one. The RTApp must be listed in this app's
 * "AllowedApplicationConnections", and this app in the RTApp's. Returns -1 with errno on failure. */
int Application_Connect(const char *componentId);

/* true when the device-authentication certificate the app uses to authenticate as the device is ready. */
bool Application_IsDeviceAuthReady(void);

#ifdef __cplusplus
}
#endif
