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

## Village survey pages
survey-desk-title = Village donor surveys
survey-township = Township
survey-pick-township = Choose a township
survey-show = Show
survey-no-townships = Your account is not responsible for any township, so it cannot enter village surveys. Ask the blood station's administrator to set this up.
survey-no-villages = This township has no list of villages yet. Ask the blood station to import the divisions.
survey-desk-count = { $done } of { $count } villages have a survey
survey-start = Enter villages one by one
survey-none-yet = No survey yet
survey-people = { $count ->
    [one] { $count } person
   *[other] { $count } people
}
survey-date = { $day } { $monthname } { $year }
survey-all-done = That was the township's last village.
survey-title = Village survey
survey-back-to-list = ← Villages of { $township }
survey-progress = Village { $at } of { $count }
survey-last = Last survey
survey-saved = Saved { $village }: { $count ->
    [one] { $count } person
   *[other] { $count } people
}.
survey-eligible = Residents aged 18–60
survey-eligible-hint = Everyone living in the village who is 18 to 60 years old.
survey-surveyed-on = Date of the survey
survey-source = Where the figure comes from
survey-surveyed-by = Surveyed by (optional)
survey-more = More figures (optional)
survey-more-hint = If you give men and women, or the three age bands, they must add up to the total.
survey-male = Men
survey-female = Women
survey-age-18-34 = Aged 18–34
survey-age-35-54 = Aged 35–54
survey-age-55-60 = Aged 55–60
survey-away = Working elsewhere
survey-known-donors = Have donated before
survey-notes = Notes
survey-save-next = Save, next village
survey-save-finish = Save, all done
survey-skip = Skip this village
survey-previous = ← Previous village
survey-large-change = The last survey of { $village } ({ $date }) counted { $previous }; you entered { $count }, more than 3 times different. Please check it.
survey-confirm-yes = Yes, { $count } is right: save
survey-confirm-or-fix = If it is wrong, correct the figure and press Save.
survey-hint-eligible_total = Enter the number of residents aged 18–60: a whole number from 0 to 1000000.
survey-hint-male = Give men and women together; they must add up to the total.
survey-hint-female = Give men and women together; they must add up to the total.
survey-hint-age_18_34 = Give all three age bands or none; they must add up to the total.
survey-hint-age_35_54 = Give all three age bands or none; they must add up to the total.
survey-hint-age_55_60 = Give all three age bands or none; they must add up to the total.
survey-hint-away_for_work = A whole number, not more than the total.
survey-hint-known_donors = A whole number, not more than the total.
survey-hint-surveyed_on = Enter the date of the survey: not after today, not before 1 October 1949.
survey-hint-source = Choose where the figure comes from.
survey-hint-surveyed_by = At most 100 characters, on one line.
survey-hint-notes = At most 2000 characters.
sheet-title = Enter many villages with a sheet
sheet-lead = Download your township's survey sheet, fill it in and upload it. You will see what it changes, village by village, before anything is saved.
sheet-download-xlsx = Download the sheet (Excel)
sheet-download-csv = Download the sheet (CSV)
sheet-file = The filled-in sheet
sheet-upload-hint = XLSX and CSV files are accepted.
sheet-upload = Upload and preview
sheet-busy = Another sheet of yours is still being read. Try again in a few seconds.
sheet-choose-file = Choose the sheet file to upload first.
sheet-not-a-sheet = Only survey sheets in XLSX or CSV format can be uploaded.
sheet-too-large = The file is too large. The sheet needs only your township's villages: remove extra worksheets or pictures and upload it again.
sheet-unreadable = The file did not arrive whole. Please upload it again.
sheet-expired = This sheet's preview is no longer available. Please upload the sheet again.
sheet-cancelled = Cancelled: nothing from the sheet was saved.
sheet-applied = { $count ->
    [one] Saved the survey of { $count } village.
   *[other] Saved the surveys of { $count } villages.
}
sheet-conflict = A village changed while the sheet was being saved, so nothing was saved. Please upload the sheet again.
sheet-preview-title = Check the sheet's changes
sheet-back = ← Back to the villages
sheet-problems = { $count ->
    [one] The sheet has { $count } problem to fix; nothing has been saved. Fix it and upload the sheet again.
   *[other] The sheet has { $count } problems to fix; nothing has been saved. Fix them and upload the sheet again.
}
sheet-again = Upload again
sheet-row = Row { $row }
sheet-summary = { $count ->
    [one] Will save the survey of { $count } village.
   *[other] Will save the surveys of { $count } villages.
}
sheet-summary-places = { $count ->
    [one] Will update the location of { $count } village.
   *[other] Will update the locations of { $count } villages.
}
sheet-unchanged = { $count } more villages are the same as their recorded survey and will not be saved again.
sheet-row-older = Dated before the village's current survey ({ $date }): can only be kept as history
sheet-row-large-change = More than 3 times different from the last survey (confirmed in the sheet)
sheet-row-location = Will update the village's location
sheet-row-same = unchanged
sheet-none-before = none
sheet-confirm-older = Keep the { $count } earlier-dated surveys as history (the current figures stay)
sheet-apply-hint = Everything is saved at once; if one row cannot be saved, nothing is.
sheet-apply = Confirm and save
sheet-nothing = The sheet has no changes to save.
sheet-cancel = Cancel, save nothing
sheet-column-village_code = Village code
sheet-column-village_name = Village name
sheet-column-eligible_total = Residents aged 18–60
sheet-column-male = Men
sheet-column-female = Women
sheet-column-age_18_34 = Aged 18–34
sheet-column-age_35_54 = Aged 35–54
sheet-column-age_55_60 = Aged 55–60
sheet-column-away_for_work = Working elsewhere
sheet-column-known_donors = Have donated before
sheet-column-surveyed_on = Date of the survey
sheet-column-source = Source
sheet-column-surveyed_by = Surveyed by
sheet-column-notes = Notes
sheet-column-longitude = Longitude
sheet-column-latitude = Latitude
sheet-column-confirm_large_change = Confirm large change
sheet-column-file = File
sheet-column-header = Header row
sheet-hint-village_code = The village code must be one of your township's villages (12 digits), each village on one row only.
sheet-hint-village_name = The village name must be one of your township's villages; for villages with the same name, give the village code.
sheet-hint-eligible_total = Enter the residents aged 18–60 (a whole number from 0 to 1000000). When it is more than 3 times different from the last survey and is right, write "yes" in the confirm_large_change column.
sheet-hint-male = Give men and women together; they must add up to the total.
sheet-hint-female = Give men and women together; they must add up to the total.
sheet-hint-age_18_34 = Give all three age bands or none; they must add up to the total.
sheet-hint-age_35_54 = Give all three age bands or none; they must add up to the total.
sheet-hint-age_55_60 = Give all three age bands or none; they must add up to the total.
sheet-hint-away_for_work = A whole number, not more than the total.
sheet-hint-known_donors = A whole number, not more than the total.
sheet-hint-surveyed_on = Write the date as 2026-11-01: not after today, not before 1949-10-01. For a date before the village's current survey, tick "keep as history" on the preview.
sheet-hint-source = Write household_register, village_doctor, committee_estimate or other.
sheet-hint-surveyed_by = At most 100 characters, on one line.
sheet-hint-notes = At most 2000 characters.
sheet-hint-longitude = Give longitude and latitude together: where the village is.
sheet-hint-latitude = Give longitude and latitude together: where the village is.
sheet-hint-confirm_large_change = Write "yes" in the confirm_large_change column, or leave it empty.
sheet-hint-file = This file cannot be read. Upload the XLSX or CSV sheet downloaded here (an XLSX without a password).
sheet-hint-header = The first row must name the columns as the downloaded sheet does.
