/* SysEvent: registers for update notifications, defers the first pending update by one minute, lets the second
 * one through, and exits when the update is final. */
#include <applibs/eventloop.h>
#include <applibs/log.h>
#include <applibs/sysevent.h>

#include <errno.h>
#include <string.h>

static int pendings;
static EventLoop *loop;

static void on_event(SysEvent_Events event, SysEvent_Status status, const SysEvent_Info *info, void *context)
{
    SysEvent_Info_UpdateData data = {0};
    int rc = SysEvent_Info_GetUpdateData(info, &data);
    Log_Debug("event %u status %u max %u type %u (%d)\n", event, status, data.max_deferral_time_in_minutes,
              data.update_type, rc);
    if (status == SysEvent_Status_Pending && ++pendings == 1) {
        int defer = SysEvent_DeferEvent(SysEvent_Events_UpdateReadyForInstall, 1);
        Log_Debug("defer: %s\n", defer < 0 ? strerror(errno) : "ok");
    }
    if (status == SysEvent_Status_Final) {
        EventLoop_Stop(loop);
    }
}

int main(void)
{
    loop = EventLoop_Create();
    int bad = SysEvent_DeferEvent(SysEvent_Events_UpdateReadyForInstall, 1);
    Log_Debug("defer with nothing pending: %s\n", bad < 0 ? strerror(errno) : "ok");
    EventRegistration *reg =
        SysEvent_RegisterForEventNotifications(loop, SysEvent_Events_UpdateReadyForInstall, on_event, NULL);
    if (reg == NULL) {
        Log_Debug("register: %s\n", strerror(errno));
        return 0;
    }
    Log_Debug("registered\n");
    EventLoop_Run(loop, -1, false);
    SysEvent_UnregisterForEventNotifications(reg);
    EventLoop_Close(loop);
    Log_Debug("done\n");
    return 0;
}
