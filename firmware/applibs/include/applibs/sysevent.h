/* Applibs sysevent.h: notifications of system events (updates) and their deferral (Microsoft Learn, Azure
 * Sphere "Applibs sysevent.h"). Written for this project from the public API reference; names, types and values
 * as the SDK's. Registering needs "SystemEventNotifications": true in the manifest, deferring an update needs
 * "SoftwareUpdateDeferral": true; otherwise EACCES. */
#pragma once

#include <stdint.h>

#include <applibs/eventloop.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t SysEvent_Events;
enum {
    SysEvent_Events_None = 0x00,
    SysEvent_Events_UpdateReadyForInstall = 0x01,   /* an OS or app update is downloaded and ready */
    SysEvent_Events_UpdateStarted = 0x02,           /* an update download started */
    SysEvent_Events_NoUpdateAvailable = 0x04,       /* the update check found nothing */
    SysEvent_Events_Mask = 0x07,                    /* every valid event */
};

typedef uint32_t SysEvent_Status;
enum {
    SysEvent_Status_Invalid = 0,
    SysEvent_Status_Pending = 1,    /* the event will happen; it may still be deferred */
    SysEvent_Status_Final = 2,      /* the event will happen; no more deferral */
    SysEvent_Status_Deferred = 3,   /* a pending event was deferred */
    SysEvent_Status_Complete = 4,   /* the event is over (app updates) */
};

typedef uint32_t SysEvent_UpdateType;
enum {
    SysEvent_UpdateType_Invalid = 0,
    SysEvent_UpdateType_App = 1,     /* the app restarts, the device does not reboot */
    SysEvent_UpdateType_System = 2,  /* an OS update: the device reboots */
};

/* What SysEvent_Info_GetUpdateData gives for SysEvent_Events_UpdateReadyForInstall. */
typedef struct SysEvent_Info_UpdateData {
    unsigned int max_deferral_time_in_minutes;   /* meaningful for SysEvent_Status_Pending */
    SysEvent_UpdateType update_type;
} SysEvent_Info_UpdateData;

/* Details of one event notification (opaque; valid until the callback returns). */
typedef struct SysEvent_Info SysEvent_Info;

/* Called once per status change of a registered event. */
typedef void SysEvent_EventsCallback(SysEvent_Events event, SysEvent_Status state,
                                     const SysEvent_Info *info, void *context);

/* Update details of an UpdateReadyForInstall notification; 0, or -1 with errno (EFAULT, EINVAL). */
int SysEvent_Info_GetUpdateData(const SysEvent_Info *info, SysEvent_Info_UpdateData *update_info);

/* Subscribes the loop `el` to `eventBitmask`; one registration at a time. NULL with errno (EACCES, EFAULT,
 * EINVAL). */
EventRegistration *SysEvent_RegisterForEventNotifications(EventLoop *el, SysEvent_Events eventBitmask,
                                                          SysEvent_EventsCallback *callback, void *context);

/* Ends the subscription `reg`; 0, or -1 with errno. */
int SysEvent_UnregisterForEventNotifications(EventRegistration *reg);

/* Defers a pending event for up to `requested_defer_time_in_minutes` (truncated to the allowed maximum);
 * 0, or -1 with errno (EACCES: no SoftwareUpdateDeferral; EINVAL: the event is not pending). */
int SysEvent_DeferEvent(SysEvent_Events event, uint32_t requested_defer_time_in_minutes);

/* Ends a deferral early; 0, or -1 with errno (EINVAL: nothing deferred). */
int SysEvent_ResumeEvent(SysEvent_Events event);

#ifdef __cplusplus
}
#endif
