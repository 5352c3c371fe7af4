/* Statically linked (no interpreter): musl's own start code, printf, a thread, exit status 5. */
#include <pthread.h>
#include <stdio.h>

static void *worker(void *arg)
{
    printf("static thread %d\n", *(int *)arg);
    return NULL;
}

int main(int argc, char *argv[])
{
    printf("static hello argc %d\n", argc);
    int value = 11;
    pthread_t t;
    pthread_create(&t, NULL, worker, &value);
    pthread_join(t, NULL);
    return 5;
}
