"""Accounts pages: first-run setup, login and logout, own account, administration of accounts."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import bp
from app.auth.access import admin_required, public
from app.auth.forms import AccountForm, ChangePasswordForm, LoginForm, NewUserForm, SetupForm
from app.auth.services import (
    AccountError,
    LoginBlocked,
    LoginFailed,
    any_user_exists,
    authenticate,
    change_password,
    create_first_administrator,
    create_user,
    deactivate_user,
    deactivation_problem,
    reactivate_user,
    update_profile,
    users_query,
)
from app.extensions import db
from app.models import User
from app.sqltypes import utcnow
from app.urls import safe_next_url


def flash_account_error(error: AccountError) -> None:
    for message in error.messages:
        flash(message, "error")


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    if any_user_exists():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = create_first_administrator(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                now=utcnow(),
            )
        except AccountError as error:
            flash_account_error(error)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome! Your administrator account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = safe_next_url(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(
                form.email.data, form.password.data, request.remote_addr or "", utcnow()
            )
        except LoginBlocked:
            minutes = current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]
            flash(
                _(
                    "Too many failed login attempts. Please wait %(minutes)s minutes "
                    "before trying again.",
                    minutes=minutes,
                ),
                "error",
            )
            status = 429
        except LoginFailed:
            db.session.commit()
            flash(_("Incorrect e-mail or password."), "error")
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(next_url or url_for("main.index"))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    user = current_user._get_current_object()
    form = AccountForm(obj=user, user=user)
    if form.validate_on_submit():
        try:
            update_profile(
                user,
                name=form.name.data,
                email=form.email.data,
                wants_digest=form.wants_digest.data,
            )
        except AccountError as error:
            flash_account_error(error)
        else:
            db.session.commit()
            flash(_("Your account is updated."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
def change_own_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    if form.validate_on_submit():
        try:
            change_password(user, form.password.data)
        except AccountError as error:
            flash_account_error(error)
        else:
            db.session.commit()
            flash(_("Your password is changed."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form)


@bp.get("/users")
@admin_required
def list_users():
    search = request.args.get("q", "").strip()
    page = db.paginate(users_query(search), per_page=current_app.config["PAGE_SIZE"])
    return render_template("auth/users.html", page=page, search=search)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                is_admin=form.is_admin.data,
                now=utcnow(),
            )
        except AccountError as error:
            flash_account_error(error)
        else:
            db.session.commit()
            flash(_("The account of %(name)s is created.", name=user.name), "success")
            return redirect(url_for("auth.show_user", user_id=user.id))
    return render_template("auth/new_user.html", form=form)


@bp.get("/users/<int:user_id>")
@admin_required
def show_user(user_id: int):
    user = db.get_or_404(User, user_id)
    return render_template("auth/user.html", user=user)


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"], endpoint="deactivate_user")
@admin_required
def deactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    if request.method == "GET":
        problem = deactivation_problem(user, current_user._get_current_object())
        if problem:
            flash(problem, "error")
            return redirect(url_for("auth.show_user", user_id=user.id))
        return render_template("auth/deactivate_user.html", user=user)
    try:
        deactivate_user(user, current_user._get_current_object())
    except AccountError as error:
        flash_account_error(error)
    else:
        db.session.commit()
        flash(_("The account of %(name)s is deactivated.", name=user.name), "success")
    return redirect(url_for("auth.show_user", user_id=user.id))


@bp.post("/users/<int:user_id>/reactivate", endpoint="reactivate_user")
@admin_required
def reactivate(user_id: int):
    user = db.get_or_404(User, user_id)
    reactivate_user(user)
    db.session.commit()
    flash(_("The account of %(name)s is active again.", name=user.name), "success")
    return redirect(url_for("auth.show_user", user_id=user.id))
