/* libapplibs: sysevent.h over the emulator-defined /dev/azure-sphere/sysevent (docs/a7.md): the subscription is
 * a descriptor registered in the app's EventLoop; each read() gives one struct azsp_sysevent, passed to the
 * callback. */
#include <applibs/sysevent.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "emulator_os.h"
#include "eventloop_internal.h"

struct SysEvent_Info {
    struct azsp_sysevent record;
};

struct subscription {
    SysEvent_EventsCallback *callback;
    void *context;
    int fd;
};

static struct subscription *active;          /* one registration at a time (sysevent.h) */

int SysEvent_Info_GetUpdateData(const SysEvent_Info *info, SysEvent_Info_UpdateData *update_info)
{
    if (info == NULL || update_info == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (info->record.event != SysEvent_Events_UpdateReadyForInstall) {
        errno = EINVAL;
        return -1;
    }
    update_info->max_deferral_time_in_minutes = info->record.max_deferral_minutes;
    update_info->update_type = info->record.update_type;
    return 0;
}

static void on_event(EventLoop *el, int fd, EventLoop_IoEvents events, void *context)
{
    struct subscription *sub = context;
    SysEvent_Info info;
    while (read(fd, &info.record, sizeof info.record) == (ssize_t)sizeof info.record) {
        sub->callback(info.record.event, info.record.status, &info, sub->context);
    }
}

static void close_subscription(EventRegistration *reg)
{
    struct subscription *sub = reg->owner;
    if (sub != NULL) {
        close(sub->fd);
        if (active == sub) {
            active = NULL;
        }
        free(sub);
        reg->owner = NULL;
    }
}

EventRegistration *SysEvent_RegisterForEventNotifications(EventLoop *el, SysEvent_Events eventBitmask,
                                                          SysEvent_EventsCallback *callback, void *context)
{
    if (el == NULL || callback == NULL) {
        errno = EFAULT;
        return NULL;
    }
    if (eventBitmask == 0 || (eventBitmask & ~(uint32_t)SysEvent_Events_Mask)) {
        errno = EINVAL;
        return NULL;
    }
    if (active != NULL) {
        errno = EEXIST;
        return NULL;
    }
    struct subscription *sub = calloc(1, sizeof *sub);
    if (sub == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    sub->callback = callback;
    sub->context = context;
    sub->fd = open(AZSP_DEV_SYSEVENT, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (sub->fd < 0 || ioctl(sub->fd, AZSP_SYSEVENT_SUBSCRIBE, &eventBitmask) < 0) {
        int saved = errno;
        if (sub->fd >= 0) {
            close(sub->fd);
        }
        free(sub);
        errno = saved;
        return NULL;
    }
    EventRegistration *reg = z__EventLoop_Add(el, sub->fd, EventLoop_Input, on_event, sub);
    if (reg == NULL) {
        int saved = errno;
        close(sub->fd);
        free(sub);
        errno = saved;
        return NULL;
    }
    reg->on_close = close_subscription;
    reg->owner = sub;
    active = sub;
    return reg;
}

int SysEvent_UnregisterForEventNotifications(EventRegistration *reg)
{
    if (reg == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (reg->owner == NULL || reg->owner != active) {
        errno = EINVAL;
        return -1;
    }
    struct subscription *sub = reg->owner;
    reg->owner = NULL;
    int rc = z__EventLoop_Remove(reg->loop, reg);
    close(sub->fd);
    active = NULL;
    free(sub);
    return rc;
}

static int sysevent_call(unsigned long request, void *arg)
{
    int fd = open(AZSP_DEV_SYSEVENT, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int rc = ioctl(fd, request, arg);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

int SysEvent_DeferEvent(SysEvent_Events event, uint32_t requested_defer_time_in_minutes)
{
    struct azsp_sysevent_defer defer = {event, requested_defer_time_in_minutes};
    return sysevent_call(AZSP_SYSEVENT_DEFER, &defer);
}

int SysEvent_ResumeEvent(SysEvent_Events event)
{
    return sysevent_call(AZSP_SYSEVENT_RESUME, &event);
}
