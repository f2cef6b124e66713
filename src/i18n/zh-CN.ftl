# donornet 的简体中文文案（默认语言）。每条文案的 id 与 en.ftl 一一对应。

## 通用
app-name = 乡村献血网
app-description = 市中心血站的乡村献血点、献血车日程与预约
skip-to-content = 跳到正文
nav-label = 主导航
nav-drives = 献血车日程
nav-sign-in = 工作人员登录
nav-sign-out = 退出登录
lang-switch = English
footer = 献血车日程如有变化，以短信通知为准。无偿献血，感谢您的爱心。
back-to-drives = ← 返回献血车日程
places-left = 剩余 { $count } 个名额
distance-km = 距您约 { $km } 公里
date-with-weekday = { $month }月{ $day }日 { $weekday }
weekday-1 = 星期一
weekday-2 = 星期二
weekday-3 = 星期三
weekday-4 = 星期四
weekday-5 = 星期五
weekday-6 = 星期六
weekday-7 = 星期日
month-1 = 1月
month-2 = 2月
month-3 = 3月
month-4 = 4月
month-5 = 5月
month-6 = 6月
month-7 = 7月
month-8 = 8月
month-9 = 9月
month-10 = 10月
month-11 = 11月
month-12 = 12月

## 出错页
error-back = 返回献血车日程
error-400-title = 填写有误
error-400 = 提交的内容有误，请返回检查后再试。
error-401-title = 请先登录
error-401 = 这个页面需要先登录。
error-403-title = 无法操作
error-403 = 您没有权限进行这项操作。如果这是您的工作，请联系血站管理员开通权限。
error-404-title = 找不到页面
error-404 = 找不到您要的页面或记录。链接可能已失效，或内容已被删除。
error-405-title = 无法操作
error-405 = 这个地址不支持这种操作。
error-409-title = 无法完成
error-409 = 情况已有变化，无法完成这项操作。请刷新页面后再试。
error-413-title = 内容太大
error-413 = 提交的内容太大了。
error-415-title = 无法处理
error-415 = 请通过页面上的表单提交。
error-422-title = 无法完成
error-422 = 提交的内容无法处理，请检查后再试。
error-428-title = 请刷新
error-428 = 请刷新页面后再试。
error-429-title = 操作太频繁
error-429 = 操作太频繁了，请稍等一分钟再试。
error-500-title = 出错了
error-500 = 抱歉，系统出了点问题。请稍后再试；如果一直这样，请联系血站。
error-503-title = 暂时无法服务
error-503 = 系统正忙，请稍后再试。

## 献血车日程
drives-title = 献血车日程
drives-lead = 查看您附近的献血车，选好时段在线预约，到场少排队。
drives-find = 查找附近的献血车
drives-use-location = 用我的位置查找
drives-locating = 正在获取您的位置……
drives-location-denied = 无法获取您的位置。请在下面选择县区和乡镇。
drives-county = 县区
drives-any-county = 全部县区
drives-township = 乡镇
drives-any-township = 全部乡镇
drives-stop-count = { $count } 个站点
drives-show = 查看
drives-heading-all = 近 30 天的献血车
drives-heading-in = { $place } 近 30 天的献血车
drives-heading-near = 您附近 30 公里内的献血车
drives-none = 这段时间没有安排献血车。您可以换一个县区或乡镇看看，也可以过几天再来查看。
drives-bad-place = 没能按这个地点查找，请在上面重新选择县区和乡镇。

## 站点与预约
stop-add-calendar = 加入日历
stop-slots = 可预约时段
stop-slot-time = 时段
stop-slot-left = 剩余名额
stop-slot-begun = 已开始
stop-full = 已约满
book-title = 预约献血
book-as = 预约方式
book-alone = 个人预约
book-group = 团体预约
book-slot = 时段
book-pick-slot = 请选择时段
book-name = 姓名
book-mobile = 手机号码
book-blood-type = 血型（选填）
book-blood-type-example = 如 A+、O型阴性
book-group-hint = 单位、村组或家庭一起来献血，由一位联系人预约。人数较多时，血站会先确认再为您安排。
book-organisation = 单位或团体名称
book-contact-name = 联系人姓名
book-contact-mobile = 联系人手机号码
book-headcount = 人数
book-preferred-slots = 希望的时段（可多选，不选则任意时段）
book-rules = 年满 18 至 60 周岁、身体健康即可献血；两次献全血间隔不少于 180 天。预约成功后会收到短信。
book-submit = 确认预约

## 我的预约
booking-title = 我的预约
booking-code = 预约码
booking-status = 状态
booking-active = 已预约
booking-requested = 等待血站确认
booking-cancelled = 已取消
booking-who = 预约人
booking-people = { $count } 人
booking-where = 地点
booking-when = 时间
booking-slot-places = { $times }（{ $count } 人）
booking-keep-link = 请收藏本页或保存短信中的链接，以后可以用它改约或取消。献血当天出示预约码即可。
booking-bring = 请带好身份证，献血前吃清淡早餐、不要空腹，前一晚休息好。
booking-move = 改约其他时段
booking-new-slot = 新时段
booking-move-submit = 确认改约
booking-cancel = 取消预约
booking-cancel-hint = 如果不能来了，请取消预约，把名额留给其他人。
booking-cancel-confirm = 确定要取消这个预约吗？
booking-cancel-submit = 取消预约
booking-withdraw = 撤回团体申请
booking-withdraw-submit = 撤回申请
booking-not-found = 找不到这个预约。请使用预约成功短信中的完整链接打开本页。
notice-booked = 预约成功！请记下您的预约码，献血当天出示即可。
notice-moved = 已改约到新的时段。
notice-cancelled = 预约已取消。感谢您告知，欢迎下次再来。

## 预约被拒绝时的说明
refused-fields = 有几项需要修改，请看下面的红色提示。
refused-not-eligible = 您上次献血是在 { $last }。为了您的健康，两次献全血至少间隔 180 天，您从 { $next } 起可以再次献血。欢迎到时再来预约！
refused-full = 您选的时段刚刚约满了。请从下面还有名额的时段中另选一个；当天也欢迎直接到场献血。
refused-begun = 这个时段已经开始了，不能再预约或改约。请选择更晚的时段。
refused-duplicate = 这个手机号已经预约过这个站点了。如需改时间，请用预约成功短信中的链接改约。
refused-closed = 这一站的献血车已结束或取消，不能再预约。请查看其他献血车。
refused-cancelled = 这个预约已经取消了。如需献血，请重新预约。
refused-changed = 名额刚刚有变化，请再试一次。
refused-other = 这个预约现在不能这样修改。
refused-limit = 这个手机号或网络预约的名额已达上限。如是团体献血，请使用团体预约，或联系血站。
refused-too-often = 操作太频繁了，请稍等一分钟再试。
refused-pick-slot = 请选择要改约的时段。
refused-request-move = 团体申请在血站确认前不能改约，请撤回后重新申请，或联系血站。

## 表单提示
hint-name = 请填写姓名（不超过 50 个字）。
hint-mobile = 请填写 11 位手机号码。
hint-blood_type = 血型请填 A、B、AB 或 O，可加“+”或“-”（如 O+），不清楚可以不填。
hint-slot = 请选择一个还有名额的时段。
hint-organisation = 请填写单位或团体名称。
hint-contact_name = 请填写联系人姓名。
hint-contact_mobile = 请填写联系人的 11 位手机号码。
hint-headcount = 团体人数为 2 到 100 人；一个人请选择个人预约。
hint-preferred_slots = 请勾选还有名额的时段。

## 登录与密码
login-title = 工作人员登录
login-lead = 乡镇卫生院、血站工作人员请用血站分配的账号登录。
login-username = 用户名
login-password = 密码
login-submit = 登录
login-donor-hint = 献血者无需登录，直接查看
login-wrong = 用户名或密码不对，请再试一次。
login-throttled = 登录失败次数太多，请 { $minutes } 分钟后再试。
password-title = 修改密码
password-lead = 当前账号：{ $username }
password-current = 当前密码
password-new = 新密码
password-repeat = 再输入一次新密码
password-rules = 新密码至少 10 个字符，不能是用户名，也不能是常见的简单密码。
password-submit = 修改密码
password-changed = 密码已修改，请用新密码重新登录。
password-mismatch = 两次输入的新密码不一样。
password-wrong-current = 当前密码不对。

## 日历文件
ics-calendar-name = 献血车日程
ics-summary = 献血车 · { $name }
ics-description = 还可预约 { $count } 个名额，也欢迎直接到场献血。在线预约：{ $link }

## 离线使用
app-short-name = 献血网
offline-banner-waiting = 待上传
offline-banner-refused = 需处理
offline-banner-open = 查看
offline-title = 没有网络
offline-lead = 现在没有网络，这个页面之前没有打开过，所以无法显示。已填写并保存在手机上的内容不会丢失，有信号时会自动上传。
sync-title = 待上传的内容
sync-lead = 没有信号时填写的内容保存在这部手机上，有信号时自动上传。如果别人在此期间改过同一条记录，会在这里并排显示您的内容和现在的内容，请您决定保留哪一个。
sync-now = 立即上传
sync-empty = 没有待上传的内容。
sync-waiting = 等待信号，有信号时自动上传。
sync-discard = 放弃我的修改
sync-discard-confirm = 确定放弃这条修改吗？放弃后无法恢复。
