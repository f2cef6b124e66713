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

## Township official pages
nav-township = My township
nav-new-account = New account
yes = Yes
no = No
empty-value = (empty)
township-kicker = My township
township-places = The areas you look after
township-points-map = Points: list and map
township-summary = Summary
township-villages = Villages
township-surveyed = Surveyed
township-surveyed-value = { $count } ({ $share })
township-stale-surveys = Surveys older than 12 months
township-eligible = Eligible donors
township-covered = Within 5 km of a point
township-covered-value = { $count } people ({ $share })
township-gaps = Gaps to fix
township-no-gaps = Nothing to fix right now.
township-due = Preparation due soon
township-none-due = Nothing is due soon.
township-more-due = More items are due: finish these first.
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
survey-outdated = After you typed this, another survey of { $village } was recorded: { $date }, { $count } people. Please compare the two.
survey-conflict-hint = Press Save to record your figures; to keep the current ones, press Skip this village.
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

point-kind-township = Township point
point-kind-village = Village point
point-kind-donation_house = Donation house
point-kind-hospital = Hospital
coordinator-role-village_doctor = Village doctor
coordinator-role-township_health_center = Township health centre
coordinator-role-village_committee = Village committee
coordinator-role-volunteer = Volunteer
coordinator-role-other = Other
gap-points-without-primary = Points without a primary coordinator
gap-points-without-primary-hint = Every point needs a primary coordinator: the blood station calls them before the bloodmobile sets out.
gap-points-without-signage = Active points without a sign
gap-points-without-signage-hint = Once the sign is up, enter the date on the point's page.
gap-villages-uncovered = Villages with no point within 5 km
gap-villages-uncovered-hint = Most eligible donors first: consider a point near these villages.
gap-villages-never-surveyed = Villages never surveyed
gap-villages-never-surveyed-hint = Ask the village doctor or committee to count the eligible donors.
gap-villages-survey-stale = Villages surveyed more than 12 months ago
gap-villages-survey-stale-hint = Please count again: the numbers decide where the bloodmobile goes.
gap-village-surveyed = { $count } eligible, surveyed { $date }
gap-village-never = not surveyed
gap-more = { $count } more not listed.
due-late = { $days } days late
due-by = due by { $date }
pick-title = Pick a township
pick-lead = Your account is not bound to an area: pick the county and township to look at.
pick-county = Pick a county
pick-township = Pick a township
flag-no-primary = no primary coordinator
flag-no-signage = no sign yet
map-label = Map of the points
map-legend = Legend
map-failed = The map did not load. Check the connection and reload the page; the list below still works.
map-village-unknown = Village: not surveyed
map-village-few = Village: under 500 eligible
map-village-some = Village: 500–1999
map-village-many = Village: 2000 or more
map-ring = { $km } km around active points
map-village-label = { $name } · { $count } eligible
map-village-unsurveyed = { $name } · not surveyed
points-title = Points in { $place }
points-count = { $count } points
points-none = No points registered here yet.
back-to-township = ← Back to my township
back-to-points = ← Back to the points
point-kind = Kind
point-region = Serves
point-address = Address
point-location = Location (longitude, latitude)
point-signage = Sign
point-no-signage = not yet
point-market-days = Market days
point-contact-phone = Telephone
point-parking = Bloodmobile parking
point-power = Power hookup
point-updated = Last changed
point-updated-value = { $date }, { $by }
point-edit = Change the point
point-move = Move it
point-move-hint = Tap the new place on the map above, or use the phone's location. Leave it if the point stays.
point-use-location = Use my location
point-location-denied = Your location is not available: tap the place on the map.
point-moved = New location:
point-signage-hint = Leave empty until the sign is up.
point-market-days-hint = Last digits of the lunar market days, separated by commas: "1,4,7" means days 1, 4, 7, 11, 14…
offline-label-point = Change to the point { $name }
point-save = Save
point-field-name = Name
point-field-kind = Kind
point-field-status = Status
point-field-address = Address
point-field-signage_installed_on = Sign put up on
point-field-market_days = Market days
point-field-contact_phone = Telephone
point-field-beds = Beds
point-field-donors_per_hour = Donors per hour
point-field-bloodmobile_parking = Bloodmobile parking
point-field-power_hookup = Power hookup
point-field-notes = Notes
point-conflict = Someone else saved this point while you were editing it. Compare "mine" and "current" below, then save again; what you typed is still in the form.
conflict-title = Changed meanwhile
conflict-field = Field
conflict-mine = Mine
conflict-current = Current
conflict-hint = Saving again keeps what you typed; to keep the current value, change that field back in the form.
notice-point-saved = Saved.
notice-point-saved-far = Saved. Note: the new location is more than 15 km from the centre of its township or village; check that it is right.
notice-coordinator-added = Coordinator added.
notice-coordinator-primary = Primary coordinator replaced.
coordinators-title = Coordinators
coordinators-none = No coordinators yet.
coordinator-primary = Primary
coordinator-make-primary = Make primary
coordinator-add = Add a coordinator
coordinator-name = Name
coordinator-mobile = Mobile number
coordinator-role = Role
coordinator-wechat = WeChat ID (optional)
coordinator-as-primary = Make them the primary (replacing the current one)
coordinator-add-submit = Add
hint-point-name = Enter a name (at most 200 characters).
hint-point-kind = Pick the kind. A village point serves a village, a township point a township.
hint-point-status = Pick the status.
hint-point-address = At most 500 characters.
hint-point-signage_installed_on = Enter the date like 2026-05-01, not later than today.
hint-point-market_days = Enter the last digits of the lunar market days, one digit each, separated by commas (1,4,7).
hint-point-contact_phone = Enter a valid telephone number, such as 0395-1234567 or an 11-digit mobile.
hint-point-beds = Beds: a whole number from 0 to 100.
hint-point-donors_per_hour = Donors per hour: a whole number from 0 to 500.
hint-point-notes = At most 2000 characters.
hint-point-longitude = Tap the place on the map (it must be in China).
hint-point-latitude = Tap the place on the map (it must be in China).
hint-point-version = This page is out of date: reload it and try again.
hint-point-region_code = The kind of point does not fit the place it serves.
hint-coordinator-name = Enter the name (at most 100 characters).
hint-coordinator-mobile = Enter an 11-digit mobile number.
hint-coordinator-mobile-taken = This mobile number is recorded already and cannot be recorded twice. Find the person among the coordinators, or ask the blood station.
hint-coordinator-role = Pick the role.
hint-coordinator-wechat_id = At most 64 characters.
hint-coordinator-region_code = Coordinators cannot be added where this point is; ask the blood station.
account-new-title = New township official account
account-new-lead = Create an account for a township health centre's official, bound to the township they look after. Hand them the username and first password in person and ask them to change it after signing in.
account-county-hint = Pick the county, then "List townships".
account-load-townships = List townships
account-username-hint = 3 to 32 lower-case letters, digits or ". _ -", like wang.dongling.
account-display-name = Name
account-password = First password
account-repeat-password = The first password again
account-create = Create the account
account-out-of-reach = You cannot create an account for this township: a township official reads the whole county, so only an admin of that county may.
notice-account-created = Account { $username } created.
hint-account-username = 3 to 32 characters: lower-case letters, digits and ". _ -", starting with a letter or digit.
hint-account-username-taken = That username is taken: pick another.
hint-account-display_name = At most 100 characters.
hint-account-township = Pick a township.
hint-account-password = At least 10 characters, not the username and not one of the commonest passwords.
hint-account-repeat_password = The two passwords differ.

## Township page links
township-surveys = Village surveys
survey-offline-label = Village survey

## Station staff's pages (navigation)
nav-station-map = Network map
nav-station-plans = Plans
nav-station-drives = Drives
nav-station-reports = Results
nav-station-admin = Administration

## Station drives pages
sdrive-title = Drives
sdrive-lead = The bloodmobiles' drives month by month, their status in colour and words. Open a drive to publish, start, complete or cancel it, check its preparations and see its bookings.
sdrive-status = Status
sdrive-status-draft = Draft
sdrive-status-published = Published
sdrive-status-in_progress = Under way
sdrive-status-completed = Completed
sdrive-status-cancelled = Cancelled
sdrive-filter = Only these statuses
sdrive-filter-hint = Tick none to see all.
sdrive-filter-apply = Filter
sdrive-months = Months
sdrive-month = { $monthname } { $year }
sdrive-prev-month = ← Previous month
sdrive-next-month = Next month →
sdrive-this-month = This month
sdrive-count = { $count ->
    [one] { $count } drive.
   *[other] { $count } drives.
}
sdrive-more = Only the first { $count } are listed: filter by status.
sdrive-none = No drives this month match.
sdrive-today = today
sdrive-bad-month = That month could not be read; this month is shown.
sdrive-vehicle-unknown = Vehicle { $id }
sdrive-back = ← Back to the drives
sdrive-back-to-drive = ← Back to the drive
sdrive-drive-title = { $date } · { $vehicle }
sdrive-date = Date
sdrive-vehicle = Vehicle
sdrive-origin = Made
sdrive-from-plan = from plan { $plan }
sdrive-by-hand = by hand
sdrive-cancel-reason = Reason for cancelling
sdrive-actions = Actions
sdrive-read-only = You may read this drive but not change it.
sdrive-final = This drive is over; it no longer changes.
sdrive-move-published = Publish
sdrive-move-published-hint = Once published, people can book its slots online.
sdrive-move-in_progress = Start the drive
sdrive-move-in_progress-hint = When the vehicle leaves; people are then checked in at its stops.
sdrive-move-completed = Complete the drive
sdrive-move-completed-hint = When every stop is done; its results are then locked.
sdrive-move-cancelled = Cancel the drive
sdrive-wait-in_progress = The drive is on { $date }: it can be started on that day, not before.
sdrive-wait-completed = The drive is on { $date }: it can be completed on that day or later, not before.
sdrive-cancel-open = Cancel the drive…
sdrive-done-published = Published: people can book now.
sdrive-done-in_progress = The drive has started.
sdrive-done-completed = The drive is completed.
sdrive-done-cancelled = { $count ->
    [one] The drive is cancelled; { $count } booking was sent a cancellation notice.
   *[other] The drive is cancelled; { $count } bookings were sent a cancellation notice.
}
sdrive-done-ticked = Marked done.
sdrive-done-unticked = Marked not done.
sdrive-bad-version = This page is out of date: reload it and try again.
sdrive-refused = That did not go through. Reload the page to see what this drive allows now.
sdrive-refused-state = This drive is now “{ $status }”: “{ $action }” is not possible. Its current state is below.
sdrive-stale = “{ $action }” was not done: someone changed this drive meanwhile; it is now “{ $status }”. Look at it as it is now and try again if still needed.
sdrive-conflict-hint = The page now shows the drive as it is.
sdrive-stops = Stops
sdrive-stop-seq = Order
sdrive-stop-place = Place
sdrive-stop-times = Planned times
sdrive-stop-expected = Expected donors
sdrive-stop-booked = Booked
sdrive-checklist = Preparation checklist
sdrive-checklist-none = This stop has no preparation items.
sdrive-item-due = by { $date }
sdrive-item-done = Done
sdrive-item-not-done = Not done
sdrive-state-done = Done
sdrive-state-upcoming = Not due yet
sdrive-state-due = Due soon
sdrive-state-late = { $days ->
    [one] { $days } day late
   *[other] { $days } days late
}
sdrive-item-done-by = done by { $by } on { $date }
sdrive-tick = Mark done
sdrive-untick = Mark not done
sdrive-item-stale = Someone changed this item meanwhile, so your change was not saved. What you asked for and what it is now are below; click again if still needed.
sdrive-item-cancelled = This drive is cancelled: its checklist no longer changes.
sdrive-bookings = Bookings by slot
sdrive-no-slots = Not published yet: bookings open once it is.
sdrive-no-bookings = No bookings yet.
sdrive-slot = Slot
sdrive-slot-none = No slot
sdrive-slot-empty = No bookings in this slot yet.
sdrive-code = Code
sdrive-who = Name or group
sdrive-headcount = People
sdrive-mobile = Mobile
sdrive-booking-status = Status
sdrive-booking-active = Active
sdrive-booking-cancelled = Cancelled
sdrive-booking-requested = Requested
sdrive-booking-declined = Declined
sdrive-group-who = { $organisation } (contact: { $contact })
sdrive-places-of = { $places } (of { $headcount })
sdrive-requests = Group requests
sdrive-request-pending = Waiting for a decision
sdrive-request-confirmed = Confirmed
sdrive-request-declined = Declined
sdrive-request-withdrawn = Withdrawn
sdrive-any-slot = any slot
sdrive-people = { $count ->
    [one] { $count } person
   *[other] { $count } people
}
sdrive-cancel-title = Cancel the drive of { $date }
sdrive-cancel-closed = This drive is now “{ $status }”: it can no longer be cancelled.
sdrive-told-title = Who cancelling will tell
sdrive-told-none = There are no active bookings: cancelling tells no one.
sdrive-told-lead = Cancelling the drive also cancels these { $count } booking(s) ({ $people } people in all) and sends each a cancellation notice giving your reason.
sdrive-cancel-confirm-title = Confirm
sdrive-cancel-reason-hint = It is written in the notice the bookers receive, e.g. “The vehicle broke down; a new date will follow”.
sdrive-cancel-confirm = { $count ->
    [one] Cancel the drive and tell { $count } booking
   *[other] Cancel the drive and tell { $count } bookings
}
sdrive-cancel-confirm-none = Cancel the drive
sdrive-cancel-keep = Keep it, go back
sdrive-cancel-not-yet = Not cancelled yet: write the reason below first.
hint-sdrive-reason = Write why it is cancelled: the bookers are told.
