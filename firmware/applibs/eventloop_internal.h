/* libapplibs: the EventLoop's private structures (shared with sysevent.c, which registers through the loop). */
#pragma once

#include <applibs/eventloop.h>

#include <stdbool.h>

struct EventRegistration {
    EventLoop *loop;
    int fd;
    EventLoop_IoEvents events;
    EventLoopIoCallback *callback;
    void *context;
    bool removed;
    void (*on_close)(EventRegistration *reg);  /* extra clean-up when the loop closes (sysevent subscriptions) */
    void *owner;                                /* what the extra clean-up frees */
    EventRegistration *next;
};

struct EventLoop {
    int epoll_fd;
    int wake_fd;
    volatile int stop_requested;
    bool running;
    EventRegistration *registrations;
    EventRegistration *retired;                 /* removed while dispatching: freed at the end of the batch */
};

__attribute__((visibility("hidden"))) EventRegistration *z__EventLoop_Add(EventLoop *el, int fd, EventLoop_IoEvents events, EventLoopIoCallback *callback,
                                    void *context);
__attribute__((visibility("hidden"))) int z__EventLoop_Remove(EventLoop *el, EventRegistration *reg);
