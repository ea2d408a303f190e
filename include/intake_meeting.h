/*
 * intake_meeting.h: a meeting entry in hand, planned by intake_meeting.c
 * (whole if it is small, else in pages: meeting_page.h). Main thread
 * only; intake_fanout.c hands it over, with it->fo made (its meeting
 * state is fanout_meeting(it->fo)).
 */
#ifndef HB_INTAKE_MEETING_H
#define HB_INTAKE_MEETING_H

struct intake;

void	intake_meeting_start(struct intake *);

#endif
