"""Compound alerts: several of the watched signals alerting for one region within a horizon.

The five signals of the design brief are meant to be read together: men crossing, a
service law changed, conscription harmonised, joint units formed and Belarusians in
Russian formations, in one region within a day, say more than any one of them. This
package is a Watchfloor agent plugin: ``agent.install`` wires ``correlate``, its pure
core, to the alerts topic; ``models`` holds the record it sends and ``settings`` its knobs.
"""
