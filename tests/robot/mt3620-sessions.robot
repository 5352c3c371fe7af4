*** Comments ***
Sessions and resets: a third suite in the same Renode, and a machine reset in the middle of a run. Each starts the bridge's models at t = 0 with the machine (a stale bridge clock stalled the
firmware here before: every timer fired only once the new machine caught up with the old clock).

*** Settings ***
Resource            ${RENODEKEYWORDS}
Resource            ${CURDIR}/mt3620.resource
Library             OperatingSystem

*** Test Cases ***
A Third Machine Starts At Time Zero
    Boot MT3620                 hello.elf    gpt_timer.elf
    Start Emulation
    ${tick}=                    Wait For Line On Uart       gpt_timer: tick 1    testerId=${IO1}
    Line Should Come Before     ${tick}    0.2
    Wait For Line On Uart       gpt_timer: done after 5 ticks    testerId=${IO1}

Machine Reset Restarts Both Cores And The Bridged Blocks
    Boot MT3620                 hello.elf    gpt_timer.elf
    Start Emulation
    Wait For Line On Uart       gpt_timer: tick 2    testerId=${IO1}
    Execute Command             machine Reset
    Wait For Line On Uart       hello: done    testerId=${IO0}
    Wait For Line On Uart       gpt_timer: start    testerId=${IO1}
    Wait For Line On Uart       gpt_timer: tick 1    testerId=${IO1}
    Wait For Line On Uart       gpt_timer: done after 5 ticks    testerId=${IO1}
