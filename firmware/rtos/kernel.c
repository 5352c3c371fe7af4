/* The kernel's scheduling and blocking objects (see kernel.h). Everything that touches the ready lists, the
 * sleep list or a wait list runs inside port_lock()/port_unlock(); a switch is requested by pending PendSV, which
 * is taken as soon as the critical section ends. */
#include "kernel.h"

k_task_t *volatile k_current;
k_task_t *volatile k_execute;
volatile uint32_t k_switches;

static k_task_t *ready[K_PRIORITIES];   /* a FIFO ring per priority; the head runs next */
static uint32_t ready_map;              /* bit p: ready[p] is not empty */
static k_task_t *sleepers;
static volatile uint32_t tick_count;

/* ---- rings of tasks (ready lists and wait lists share the links) ---- */
static void ring_append(k_task_t **head, k_task_t *t)
{
    if (*head == NULL) {
        t->next = t->prev = t;
        *head = t;
    } else {
        k_task_t *first = *head, *last = first->prev;
        t->next = first;
        t->prev = last;
        last->next = t;
        first->prev = t;
    }
}

static void ring_remove(k_task_t **head, k_task_t *t)
{
    if (t->next == t) {
        *head = NULL;
    } else {
        t->prev->next = t->next;
        t->next->prev = t->prev;
        if (*head == t) {
            *head = t->next;
        }
    }
    t->next = t->prev = NULL;
}

/* ---- scheduling ---- */
/* Chooses the task that should run and asks PendSV for a switch when it is not the one running. */
static void reschedule(void)
{
    k_execute = ready_map ? ready[__builtin_ctz(ready_map)] : NULL;
    if (k_execute != k_current) {
        port_request_switch();
    }
}

static void make_ready(k_task_t *t)
{
    t->state = K_READY;
    t->waiting_on = NULL;
    t->slice_left = t->slice;
    ring_append(&ready[t->prio], t);
    ready_map |= 1u << t->prio;
}

static void unready(k_task_t *t)
{
    ring_remove(&ready[t->prio], t);
    if (ready[t->prio] == NULL) {
        ready_map &= ~(1u << t->prio);
    }
}

/* The running task waits on `w` until another task or an interrupt readies it. Lock held. */
static void block_on(k_wait_t *w)
{
    k_task_t *t = k_current;
    unready(t);
    t->state = K_BLOCKED;
    t->waiting_on = w;
    ring_append(&w->head, t);
    reschedule();
}

static k_task_t *wake_first(k_wait_t *w)
{
    k_task_t *t = w->head;
    ring_remove(&w->head, t);
    make_ready(t);
    return t;
}

void k_switched(void)
{
    k_current = k_execute;
    k_current->switches_in++;
    k_switches++;
}

/* The entry function of a task returned: it stops for good. */
static _Noreturn void task_exit(void)
{
    port_lock();
    unready(k_current);
    k_current->state = K_DONE;
    reschedule();
    port_unlock(0);
    for (;;) {
    }
}

void k_task_create(k_task_t *t, const char *name, void (*entry)(uint32_t), uint32_t arg, uint32_t *stack,
                   uint32_t words, unsigned prio, unsigned slice)
{
    t->name = name;
    t->prio = (uint8_t)(prio < K_PRIORITIES ? prio : K_PRIORITIES - 1u);
    t->slice = (uint16_t)slice;
    t->switches_in = 0;
    t->sleep_next = NULL;
    port_init_frame(t, entry, arg, stack + words, task_exit);
    uint32_t saved = port_lock();
    make_ready(t);
    if (k_current != NULL) {
        reschedule();
    }
    port_unlock(saved);
}

_Noreturn void k_start(uint32_t tick_hz)
{
    k_execute = ready_map ? ready[__builtin_ctz(ready_map)] : NULL;
    port_start(tick_hz);
}

uint32_t k_ticks(void) { return tick_count; }

void k_tick(void)
{
    uint32_t now = ++tick_count;
    k_task_t **link = &sleepers;
    while (*link != NULL) {
        k_task_t *t = *link;
        if ((int32_t)(now - t->wake_tick) >= 0) {
            *link = t->sleep_next;
            t->sleep_next = NULL;
            make_ready(t);
        } else {
            link = &t->sleep_next;
        }
    }
    /* Time slicing: a task whose slice is spent goes behind the others of its priority. */
    k_task_t *cur = k_current;
    if (cur != NULL && cur->state == K_READY && cur->slice && --cur->slice_left == 0) {
        cur->slice_left = cur->slice;
        if (ready[cur->prio] == cur && cur->next != cur) {
            ready[cur->prio] = cur->next;
        }
    }
    reschedule();
}

void k_sleep(uint32_t ticks)
{
    uint32_t saved = port_lock();
    k_task_t *t = k_current;
    unready(t);
    t->state = K_SLEEPING;
    t->wake_tick = tick_count + (ticks ? ticks : 1u);
    t->sleep_next = sleepers;
    sleepers = t;
    reschedule();
    port_unlock(saved);
}

void k_yield(void)
{
    uint32_t saved = port_lock();
    k_task_t *t = k_current;
    if (ready[t->prio] == t && t->next != t) {
        ready[t->prio] = t->next;
    }
    reschedule();
    port_unlock(saved);
}

/* ---- queue ---- */
void k_queue_init(k_queue_t *q, uint32_t *items, uint32_t size)
{
    q->items = items;
    q->size = size;
    q->head = q->count = 0;
    q->senders.head = q->receivers.head = NULL;
}

void k_queue_send(k_queue_t *q, uint32_t item)
{
    uint32_t saved = port_lock();
    if (q->receivers.head != NULL) {
        wake_first(&q->receivers)->value = item;  /* straight to the waiting receiver */
        reschedule();
    } else if (q->count < q->size) {
        q->items[(q->head + q->count++) % q->size] = item;
    } else {
        k_current->value = item;                  /* a receiver moves it into the queue */
        block_on(&q->senders);
    }
    port_unlock(saved);
}

uint32_t k_queue_receive(k_queue_t *q)
{
    uint32_t saved = port_lock();
    uint32_t item;
    if (q->count > 0) {
        item = q->items[q->head];
        q->head = (q->head + 1u) % q->size;
        q->count--;
        if (q->senders.head != NULL) {            /* room again: take the first waiting sender's item */
            k_task_t *s = wake_first(&q->senders);
            q->items[(q->head + q->count++) % q->size] = s->value;
            reschedule();
        }
        port_unlock(saved);
        return item;
    }
    block_on(&q->receivers);
    port_unlock(saved);                           /* the switch happens here; we resume with the item */
    return k_current->value;
}

/* ---- semaphore ---- */
void k_sem_init(k_sem_t *s, uint32_t count)
{
    s->count = count;
    s->waiters.head = NULL;
}

void k_sem_take(k_sem_t *s)
{
    uint32_t saved = port_lock();
    if (s->count > 0) {
        s->count--;
    } else {
        block_on(&s->waiters);
    }
    port_unlock(saved);
}

void k_sem_give(k_sem_t *s)
{
    uint32_t saved = port_lock();
    if (s->waiters.head != NULL) {
        wake_first(&s->waiters);                  /* the token goes straight to the waiter */
        reschedule();
    } else {
        s->count++;
    }
    port_unlock(saved);
}

/* ---- event flags ---- */
void k_events_set(k_events_t *e, uint32_t bits)
{
    uint32_t saved = port_lock();
    e->flags |= bits;
    k_task_t *t = e->waiters.head;
    bool woke = false;
    while (t != NULL && e->flags) {
        k_task_t *next = t->next == e->waiters.head ? NULL : t->next;
        uint32_t got = e->flags & t->value;
        if (got) {
            e->flags &= ~got;                     /* cleared for the task they wake */
            ring_remove(&e->waiters.head, t);
            make_ready(t);
            t->value = got;
            woke = true;
        }
        t = next;
    }
    if (woke) {
        reschedule();
    }
    port_unlock(saved);
}

uint32_t k_events_wait_any(k_events_t *e, uint32_t bits)
{
    uint32_t saved = port_lock();
    uint32_t got = e->flags & bits;
    if (got) {
        e->flags &= ~got;
        port_unlock(saved);
        return got;
    }
    k_current->value = bits;
    block_on(&e->waiters);
    port_unlock(saved);
    return k_current->value;
}

/* ---- mutex (recursive, FIFO hand-over, no priority inheritance) ---- */
void k_mutex_lock(k_mutex_t *m)
{
    uint32_t saved = port_lock();
    if (m->owner == NULL) {
        m->owner = k_current;
        m->depth = 1;
    } else if (m->owner == k_current) {
        m->depth++;
    } else {
        block_on(&m->waiters);                    /* ownership is handed over by the unlock */
    }
    port_unlock(saved);
}

void k_mutex_unlock(k_mutex_t *m)
{
    uint32_t saved = port_lock();
    if (m->owner == k_current && --m->depth == 0) {
        if (m->waiters.head != NULL) {
            m->owner = wake_first(&m->waiters);
            m->depth = 1;
            reschedule();
        } else {
            m->owner = NULL;
        }
    }
    port_unlock(saved);
}
