/* libapplibs: EventLoop on epoll, an eventfd for EventLoop_Stop from other threads (applibs/eventloop.h). */
#include <applibs/eventloop.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "eventloop_internal.h"

#define BATCH 16

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

EventLoop *EventLoop_Create(void)
{
    EventLoop *el = calloc(1, sizeof *el);
    if (el == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    el->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    el->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (el->epoll_fd < 0 || el->wake_fd < 0) {
        int saved = errno;
        if (el->epoll_fd >= 0) {
            close(el->epoll_fd);
        }
        if (el->wake_fd >= 0) {
            close(el->wake_fd);
        }
        free(el);
        errno = saved;
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(el->epoll_fd, EPOLL_CTL_ADD, el->wake_fd, &ev) < 0) {
        int saved = errno;
        close(el->epoll_fd);
        close(el->wake_fd);
        free(el);
        errno = saved;
        return NULL;
    }
    return el;
}

static void free_retired(EventLoop *el)
{
    while (el->retired != NULL) {
        EventRegistration *reg = el->retired;
        el->retired = reg->next;
        free(reg);
    }
}

static void unlink_registration(EventLoop *el, EventRegistration *reg)
{
    for (EventRegistration **p = &el->registrations; *p != NULL; p = &(*p)->next) {
        if (*p == reg) {
            *p = reg->next;
            break;
        }
    }
    reg->removed = true;
    if (el->running) {
        reg->next = el->retired;         /* a dispatched batch may still point at it */
        el->retired = reg;
    } else {
        free(reg);
    }
}

void EventLoop_Close(EventLoop *el)
{
    if (el == NULL) {
        return;
    }
    while (el->registrations != NULL) {
        EventRegistration *reg = el->registrations;
        if (reg->on_close != NULL) {
            reg->on_close(reg);
        }
        el->registrations = reg->next;
        free(reg);
    }
    free_retired(el);
    close(el->wake_fd);
    close(el->epoll_fd);
    free(el);
}

EventRegistration *z__EventLoop_Add(EventLoop *el, int fd, EventLoop_IoEvents events, EventLoopIoCallback *callback,
                                    void *context)
{
    if (el == NULL || callback == NULL) {
        errno = EFAULT;
        return NULL;
    }
    if (events & ~(uint32_t)(EventLoop_Input | EventLoop_Output | EventLoop_Error)) {
        errno = EINVAL;
        return NULL;
    }
    EventRegistration *reg = calloc(1, sizeof *reg);
    if (reg == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    reg->loop = el;
    reg->fd = fd;
    reg->events = events;
    reg->callback = callback;
    reg->context = context;
    struct epoll_event ev = {.events = events, .data.ptr = reg};
    if (epoll_ctl(el->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int saved = errno;
        free(reg);
        errno = saved;
        return NULL;
    }
    reg->next = el->registrations;
    el->registrations = reg;
    return reg;
}

EventRegistration *EventLoop_RegisterIo(EventLoop *el, int fd, EventLoop_IoEvents eventBitmask,
                                        EventLoopIoCallback *callback, void *context)
{
    return z__EventLoop_Add(el, fd, eventBitmask, callback, context);
}

int EventLoop_ModifyIoEvents(EventLoop *el, EventRegistration *reg, EventLoop_IoEvents eventBitmask)
{
    if (el == NULL || reg == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (reg->loop != el || reg->removed ||
        (eventBitmask & ~(uint32_t)(EventLoop_Input | EventLoop_Output | EventLoop_Error))) {
        errno = EINVAL;
        return -1;
    }
    struct epoll_event ev = {.events = eventBitmask, .data.ptr = reg};
    if (epoll_ctl(el->epoll_fd, EPOLL_CTL_MOD, reg->fd, &ev) < 0) {
        return -1;
    }
    reg->events = eventBitmask;
    return 0;
}

int z__EventLoop_Remove(EventLoop *el, EventRegistration *reg)
{
    if (el == NULL || reg == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (reg->loop != el || reg->removed) {
        errno = EINVAL;
        return -1;
    }
    /* The descriptor may already be closed (EBADF) or gone from the set: the registration goes all the same. */
    epoll_ctl(el->epoll_fd, EPOLL_CTL_DEL, reg->fd, NULL);
    unlink_registration(el, reg);
    return 0;
}

int EventLoop_UnregisterIo(EventLoop *el, EventRegistration *reg)
{
    return z__EventLoop_Remove(el, reg);
}

int EventLoop_Stop(EventLoop *el)
{
    if (el == NULL) {
        errno = EFAULT;
        return -1;
    }
    el->stop_requested = 1;
    uint64_t one = 1;
    if (write(el->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN) {
        return -1;
    }
    return 0;
}

int EventLoop_GetWaitDescriptor(EventLoop *el)
{
    if (el == NULL) {
        errno = EFAULT;
        return -1;
    }
    return el->epoll_fd;
}

EventLoop_Run_Result EventLoop_Run(EventLoop *el, int duration_in_milliseconds, bool process_one_event)
{
    if (el == NULL) {
        errno = EFAULT;
        return EventLoop_Run_Failed;
    }
    if (el->running) {
        errno = EBUSY;                  /* not re-entrant */
        return EventLoop_Run_Failed;
    }
    const int64_t deadline = duration_in_milliseconds < 0 ? -1 : now_ms() + duration_in_milliseconds;
    int dispatched = 0;
    EventLoop_Run_Result result = EventLoop_Run_FinishedEmpty;
    el->running = true;
    el->stop_requested = 0;
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        struct epoll_event events[BATCH];
        int n = epoll_wait(el->epoll_fd, events, BATCH, timeout);
        if (n < 0) {
            result = EventLoop_Run_Failed;
            break;
        }
        for (int i = 0; i < n; i++) {
            EventRegistration *reg = events[i].data.ptr;
            if (reg == NULL) {          /* the wake-up eventfd */
                uint64_t value;
                (void)read(el->wake_fd, &value, sizeof value);
                continue;
            }
            if (reg->removed) {
                continue;
            }
            reg->callback(el, reg->fd, events[i].events & (uint32_t)(EventLoop_Input | EventLoop_Output | EventLoop_Error), reg->context);
            dispatched++;
            if (process_one_event || el->stop_requested) {
                break;
            }
        }
        free_retired(el);
        if (el->stop_requested || (process_one_event && dispatched > 0) || n == 0 || timeout == 0) {
            break;
        }
    }
    el->running = false;
    free_retired(el);
    if (result == EventLoop_Run_Failed) {
        return result;
    }
    return dispatched > 0 ? EventLoop_Run_Finished : EventLoop_Run_FinishedEmpty;
}
