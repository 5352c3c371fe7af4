/* Applibs eventloop.h: an event loop that waits on file descriptors and dispatches callbacks (Microsoft Learn,
 * Azure Sphere "Applibs eventloop.h"). Written for this project from the public API reference; names, types and
 * values as the SDK's, so apps compile unmodified and SDK-built binaries link against libapplibs.so.0.
 *
 * The loop is built on epoll, as the SDK's is: EventLoop_GetWaitDescriptor returns the epoll descriptor, which
 * can itself be waited on (nested in another loop or poll()). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An event loop (opaque). */
typedef struct EventLoop EventLoop;

/* A registration of a descriptor (or of a system-event subscription) in a loop (opaque). */
typedef struct EventRegistration EventRegistration;

/* I/O events a registration waits for; the values are epoll's (EPOLLIN, EPOLLOUT, EPOLLERR). */
typedef uint32_t EventLoop_IoEvents;
enum {
    EventLoop_None = 0x0,
    EventLoop_Input = 0x1,
    EventLoop_Output = 0x4,
    EventLoop_Error = 0x8,
};

/* What EventLoop_Run did. */
typedef int EventLoop_Run_Result;
enum {
    EventLoop_Run_Failed = -1,        /* errno says why (EINTR when a signal arrived) */
    EventLoop_Run_FinishedEmpty = 0,  /* returned without dispatching anything */
    EventLoop_Run_Finished = 1,       /* dispatched at least one event */
};

/* Called when a registered descriptor has events: the loop, the descriptor, the events that occurred, and the
 * context given at registration. */
typedef void EventLoopIoCallback(EventLoop *el, int fd, EventLoop_IoEvents events, void *context);

/* Creates a loop; NULL with errno on failure. */
EventLoop *EventLoop_Create(void);

/* Closes a loop and frees it (and every registration still in it). NULL is ignored. */
void EventLoop_Close(EventLoop *el);

/* Waits for events and dispatches them in the caller's thread. duration_in_milliseconds: how long to run
 * (-1: until EventLoop_Stop; 0: dispatch what is ready and return). process_one_event: return after the first
 * dispatched event. */
EventLoop_Run_Result EventLoop_Run(EventLoop *el, int duration_in_milliseconds, bool process_one_event);

/* Makes a running EventLoop_Run return once it finishes the callback it is in; safe from callbacks. */
int EventLoop_Stop(EventLoop *el);

/* The descriptor that becomes readable when the loop has events to dispatch (its epoll descriptor). */
int EventLoop_GetWaitDescriptor(EventLoop *el);

/* Registers `fd` for `eventBitmask`; NULL with errno on failure (EINVAL, EEXIST, EBADF, ENOMEM...). */
EventRegistration *EventLoop_RegisterIo(EventLoop *el, int fd, EventLoop_IoEvents eventBitmask,
                                        EventLoopIoCallback *callback, void *context);

/* Changes the events a registration waits for (EventLoop_None suspends it). */
int EventLoop_ModifyIoEvents(EventLoop *el, EventRegistration *reg, EventLoop_IoEvents eventBitmask);

/* Removes and frees a registration; the descriptor is not closed. */
int EventLoop_UnregisterIo(EventLoop *el, EventRegistration *reg);

#ifdef __cplusplus
}
#endif
