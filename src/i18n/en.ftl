# donornet's English texts. Every id matches zh-CN.ftl.

## Common
app-name = Rural Blood Donors
app-description = The blood station's rural donation points, bloodmobile schedule and bookings
skip-to-content = Skip to content
nav-label = Main
nav-drives = Bloodmobile schedule
nav-sign-in = Staff sign-in
nav-sign-out = Sign out
lang-switch = 中文
footer = If a drive changes, the text message you receive is what counts. Thank you for giving blood.
back-to-drives = ← Back to the schedule
places-left = { $count ->
    [one] { $count } place left
   *[other] { $count } places left
}
distance-km = about { $km } km away
date-with-weekday = { $weekday } { $day } { $monthname }
weekday-1 = Mon
weekday-2 = Tue
weekday-3 = Wed
weekday-4 = Thu
weekday-5 = Fri
weekday-6 = Sat
weekday-7 = Sun
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec

## Error pages
error-back = Back to the schedule
error-400-title = Something to fix
error-400 = Something in what was sent is not right. Go back, check it and try again.
error-401-title = Please sign in
error-401 = This page needs you to sign in first.
error-403-title = Not allowed
error-403 = Your account may not do this. If it is part of your work, ask the blood station's administrator.
error-404-title = Not found
error-404 = This page or record does not exist. The link may be out of date, or the record was removed.
error-405-title = Not allowed
error-405 = This address does not take that kind of request.
error-409-title = Could not be done
error-409 = Things have changed meanwhile, so this could not be done. Reload the page and try again.
error-413-title = Too large
error-413 = What was sent is too large.
error-415-title = Cannot be read
error-415 = Please send this with the form on the page.
error-422-title = Could not be done
error-422 = What was sent cannot be used. Check it and try again.
error-428-title = Please reload
error-428 = Reload the page and try again.
error-429-title = Too many tries
error-429 = Too many tries in a short time. Wait a minute and try again.
error-500-title = Something went wrong
error-500 = Sorry, something went wrong on our side. Try again later; if it keeps happening, call the blood station.
error-503-title = Busy
error-503 = The service is busy. Try again in a moment.

## Schedule
drives-title = Bloodmobile schedule
drives-lead = Find a bloodmobile near you and book a time online, so you wait less on the day.
drives-find = Find a bloodmobile near you
drives-use-location = Use my location
drives-locating = Finding where you are…
drives-location-denied = Your location is not available. Pick your county and township below.
drives-county = County
drives-any-county = All counties
drives-township = Township
drives-any-township = All townships
drives-stop-count = { $count ->
    [one] { $count } stop
   *[other] { $count } stops
}
drives-show = Show
drives-heading-all = Bloodmobiles in the next 30 days
drives-heading-in = Bloodmobiles in { $place } in the next 30 days
drives-heading-near = Bloodmobiles within 30 km of you
drives-none = No bloodmobile is planned for this time. Try another county or township, or look again in a few days.
drives-bad-place = That place could not be used. Pick a county and township above.

## Stops and booking
stop-add-calendar = Add to calendar
stop-slots = Times you can book
stop-slot-time = Time
stop-slot-left = Places left
stop-slot-begun = Begun
stop-full = Full
book-title = Book a place
book-as = Booking for
book-alone = Myself
book-group = A group
book-slot = Time
book-pick-slot = Choose a time
book-name = Name
book-mobile = Mobile number
book-blood-type = Blood group (optional)
book-blood-type-example = e.g. A+, O-
book-group-hint = A workplace, village group or family coming together, booked by one contact. For large groups the blood station confirms first.
book-organisation = Workplace or group
book-contact-name = Contact's name
book-contact-mobile = Contact's mobile number
book-headcount = Number of people
book-preferred-slots = Times that suit you (any number; none means any time)
book-rules = Anyone healthy aged 18 to 60 may give blood, at least 180 days after their last whole-blood donation. You get a text message once booked.
book-submit = Book

## My booking
booking-title = My booking
booking-code = Booking code
booking-status = Status
booking-active = Booked
booking-requested = Waiting for the blood station to confirm
booking-cancelled = Cancelled
booking-who = Booked by
booking-people = { $count } people
booking-where = Where
booking-when = When
booking-slot-places = { $times } ({ $count } people)
booking-keep-link = Bookmark this page or keep the link in your text message: it lets you change or cancel the booking. On the day, show the booking code.
booking-bring = Bring your ID card, eat a light meal beforehand (do not come hungry), and sleep well the night before.
booking-move = Change the time
booking-new-slot = New time
booking-move-submit = Change
booking-cancel = Cancel the booking
booking-cancel-hint = If you cannot come, please cancel so that someone else can have the place.
booking-cancel-confirm = Cancel this booking?
booking-cancel-submit = Cancel the booking
booking-withdraw = Withdraw the group request
booking-withdraw-submit = Withdraw
booking-not-found = This booking cannot be found. Open this page with the whole link from your booking's text message.
notice-booked = Booked! Note your booking code and show it on the day.
notice-moved = Your booking has moved to the new time.
notice-cancelled = The booking is cancelled. Thank you for telling us; you are welcome another time.

## Why a booking was refused
refused-fields = A few things need changing: see the notes in red below.
refused-not-eligible = Your last donation was on { $last }. For your health, whole blood is given at least 180 days apart, so you may give again from { $next }. Please book again then!
refused-full = The time you chose has just filled up. Pick another time that still has places below; you are also welcome to come on the day without booking.
refused-begun = That time has already begun, so it cannot be booked or moved to. Pick a later time.
refused-duplicate = This mobile number has already booked this stop. To change the time, use the link in your booking's text message.
refused-closed = This stop's drive is over or cancelled, so it takes no more bookings. Look at the other drives.
refused-cancelled = This booking is cancelled. To give blood, book again.
refused-changed = The places changed just now. Please try again.
refused-other = This booking cannot be changed like that now.
refused-limit = This mobile number or network has booked as many places as it may. For a group, use group booking, or call the blood station.
refused-too-often = Too many tries in a short time. Wait a minute and try again.
refused-pick-slot = Choose the time to move to.
refused-request-move = A group request cannot be moved before the blood station confirms it. Withdraw it and ask again, or call the blood station.

## Form hints
hint-name = Enter your name (at most 50 characters).
hint-mobile = Enter an 11-digit mobile number.
hint-blood_type = A blood group is A, B, AB or O, optionally with + or - (e.g. O+); leave it empty if you do not know.
hint-slot = Choose a time that still has places.
hint-organisation = Enter the workplace or group.
hint-contact_name = Enter the contact's name.
hint-contact_mobile = Enter the contact's 11-digit mobile number.
hint-headcount = A group is 2 to 100 people; one person books as "Myself".
hint-preferred_slots = Tick times that still have places.

## Sign-in and password
login-title = Staff sign-in
login-lead = Township health centre and blood station staff sign in with the account the blood station gave them.
login-username = Username
login-password = Password
login-submit = Sign in
login-donor-hint = Donors need no account:
login-wrong = Wrong username or password. Please try again.
login-throttled = Too many failed sign-ins. Try again in { $minutes } minutes.
password-title = Change password
password-lead = Account: { $username }
password-current = Current password
password-new = New password
password-repeat = New password again
password-rules = At least 10 characters, not the username, and not a common easy password.
password-submit = Change password
password-changed = Your password is changed. Sign in with the new one.
password-mismatch = The two new passwords are not the same.
password-wrong-current = The current password is not right.

## Calendar files
ics-calendar-name = Bloodmobile schedule
ics-summary = Bloodmobile · { $name }
ics-description = { $count } places left to book; walk-ins welcome. Book online: { $link }

## Working offline
app-short-name = Donors
offline-banner-waiting = Waiting to send
offline-banner-refused = To resolve
offline-banner-open = Open
offline-title = No connection
offline-lead = There is no connection, and this page was not opened before, so it cannot be shown. What you typed and saved on this phone is not lost: it is sent when the signal returns.
sync-title = Waiting to be sent
sync-lead = What you enter without a signal is kept on this phone and sent when the signal returns. If someone changed the same record meanwhile, yours and the current one are shown side by side here for you to choose.
sync-now = Send now
sync-empty = Nothing is waiting.
sync-waiting = Waiting for a signal; it is sent as soon as there is one.
sync-discard = Drop my change
sync-discard-confirm = Drop this change? It cannot be brought back.

## API output
# What the API writes for people: route sheets, plan calendars, text messages, CSV/XLSX
# headers, season names, default checklist items. Text messages are always sent in zh-CN (they
# are written to the outbox when a booking is made); the English ones are kept in step.
plan-name = { $region }, { $from } to { $to }
plan-csv-date = Date
plan-csv-vehicle = Vehicle id
plan-csv-vehicle_name = Vehicle
plan-csv-stop = Stop
plan-csv-site = Site id
plan-csv-name = Site
plan-csv-address = Address
plan-csv-arrive = Arrive
plan-csv-opens = Donation from
plan-csv-closes = Donation until
plan-csv-leave = Leave
plan-csv-expected_donors = Expected donors
plan-csv-planned_donors = Planned donors
plan-csv-coordinator = Coordinator
plan-csv-phone = Phone
plan-ics-description = Donation { $opens }–{ $closes }, { $donors } donors expected.
plan-ics-coordinator = Coordinator: { $name } { $mobile }
route-title = Plan { $plan } — { $title }
route-empty = Plan { $plan } has no stops.
route-day = { $date } ({ $weekday })
route-summary = Leave { $station } { $depart } · back { $back } · { $km } km · { $donors } donors expected · plan { $plan } ({ $title })
route-col-arrive = Arrive
route-col-donation = Donation
route-col-leave = Leave
route-col-site = Site
route-col-address = Address
route-col-coordinators = Coordinators
route-col-donors = Donors
route-primary = {" "}(primary)
sms-place-address = { $stop } ({ $address })
sms-people = , { $count } people
sms-reason = {" "}({ $reason })
sms-confirmation = { $name }, you are booked to give blood on { $when } at { $place }{ $people }, booking code { $code }. Bring your ID card, eat a light breakfast and rest well.
sms-day-before = { $name }, tomorrow at { $time } you are booked to give blood at { $place }{ $people }, booking code { $code }. Bring your ID card, rest early tonight and drink no alcohol.
sms-two-hours = { $name }, today at { $time } you are booked to give blood at { $place }{ $people }, booking code { $code }. Please come on time.
sms-rescheduled = { $name }, your blood donation booking is now on { $when } at { $place }{ $people }, booking code { $code }.
sms-cancelled-by-station = { $name }, your booking { $code } to give blood on { $when } at { $place } was cancelled by the blood station{ $why }. We are sorry for the trouble.
sms-request-received = { $name }, we received your group booking request for { $day } at { $place }{ $people }, request code { $code }. The blood station will text you when it confirms; until then no places are held.
sms-request-declined = { $name }, your group booking request { $code } for { $day } at { $place } was not confirmed{ $why }. Call the blood station with any question.
sms-drive-cancelled = { $name }, the blood drive on { $when } at { $place } is cancelled ({ $reason }), and with it your booking { $code }. We are sorry for the trouble.
sms-cancelled = { $name }, your booking { $code } to give blood on { $when } at { $place } is cancelled.
sms-manage = {" "}Move or cancel: { $link }
gaps-col-id = Point id
gaps-col-point = Point
gaps-col-status = Status
gaps-col-region_code = Region code
gaps-col-code = Village code
gaps-col-village = Village
gaps-col-eligible_total = Eligible (18-60)
gaps-col-surveyed_on = Surveyed on
point-status-planned = Planned
point-status-active = Active
point-status-suspended = Suspended
point-status-closed = Closed
results-sheet = Results
results-total = Total
results-col-group = Group
results-col-label = Name
results-col-drives = Drives
results-col-stops = Stops
results-col-registered = Registered
results-col-deferred = Deferred
results-col-donated = Donated
results-col-total_ml = Total mL
results-col-walk_ins = Walk-ins
results-col-booked_places = Booked places
results-col-booked_attended = Booked and came
results-col-no_shows = No-shows
results-col-deferral_rate = Deferral rate
results-col-no_show_rate = No-show rate
results-col-expected_donors = Expected donors
results-col-forecast_error = Forecast error
results-col-relative_error = Relative error
results-col-abs_error = Sum of stops' absolute errors
results-col-unrecorded_stops = Unrecorded stops
results-col-unrecorded_expected = Expected at unrecorded stops
season-winter = Dec { $year } to Feb { $next }
season-spring = Mar to May { $year }
season-summer = Jun to Aug { $year }
season-autumn = Sep to Nov { $year }
survey-sheet = Surveys
survey-col-village_code = Village code
survey-col-village_name = Village name
survey-col-eligible_total = Eligible (18-60)
survey-col-male = Male
survey-col-female = Female
survey-col-age_18_34 = Aged 18-34
survey-col-age_35_54 = Aged 35-54
survey-col-age_55_60 = Aged 55-60
survey-col-away_for_work = Away for work
survey-col-known_donors = Known donors
survey-col-surveyed_on = Surveyed on
survey-col-source = Source
survey-col-surveyed_by = Surveyed by
survey-col-notes = Notes
survey-col-longitude = Longitude
survey-col-latitude = Latitude
survey-col-confirm_large_change = Confirm large change
survey-source-household_register = Household register
survey-source-village_doctor = Village doctor
survey-source-committee_estimate = Committee estimate
survey-source-other = Other
checklist-default-14 = Confirm venue and coordinator
checklist-default-7 = Notify villages and post notices
checklist-default-1 = Confirm bookings and weather
